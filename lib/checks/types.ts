import type { Cloud, MailboxType } from "@/db/schema";

export const STEP_NAMES = ["settings", "network", "token", "claims", "smtp", "imap"] as const;
export type StepName = (typeof STEP_NAMES)[number];

export const STEP_LABELS: Record<StepName, string> = {
  settings: "Settings",
  network: "Network",
  token: "Token",
  claims: "Token claims",
  smtp: "SMTP send",
  imap: "IMAP receive",
};

export type StepStatus = "passed" | "failed" | "skipped";

/** One finished step. A failure carries what the administrator needs to fix it. */
export type StepResult = {
  name: StepName;
  status: StepStatus;
  durationMs: number;
  /** A short line on what happened ("Token from cache", "Message arrived after 0.21 s"). */
  summary: string;
  diagnosis?: Diagnosis;
  /** Measured figures, e.g. { arrivalMs: 212 } on the IMAP step. */
  metrics?: Record<string, number>;
};

export type SetupStep =
  | "register-app"
  | "client-id"
  | "tenant-id"
  | "api-permissions"
  | "admin-consent"
  | "public-client-flows"
  | "conditional-access"
  | "account"
  | "login"
  | "password"
  | "exchange-smtp-auth"
  | "exchange-imap"
  | "servers"
  | "tls"
  | "product";

export type Diagnosis = {
  code: string;
  cause: string;
  fix: string;
  setupStep: SetupStep;
  /** The server's own reply with tokens and passwords removed, for a support ticket. */
  detail?: string;
};

/** What a check needs: a stored mailbox's settings, or unsaved values from the form. */
export type CheckSettings = {
  mailboxId?: number;
  type: MailboxType;
  login: string;
  password: string | null;
  smtpHost: string | null;
  smtpPort: number | null;
  imapHost: string | null;
  imapPort: number | null;
  useTls: boolean;
  azureClientId: string | null;
  azureTenantId: string | null;
  cloud: Cloud;
};

export type CheckOutcome = { ok: boolean; steps: StepResult[]; durationMs: number };
