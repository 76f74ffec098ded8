import type { Diagnosis } from "./diagnoses";
import type { TlsInfo } from "./transport";
import { TRANSPORTS, type TransportName } from "./transports";

/** Steps every check may report before any mail is moved; each transport adds its own step after them. */
const CORE_STEP_LABELS = { settings: "Settings", network: "Network", token: "Token", claims: "Token claims" } as const;

export type StepName = keyof typeof CORE_STEP_LABELS | TransportName;

export const STEP_LABELS: Record<StepName, string> = {
  ...CORE_STEP_LABELS,
  ...(Object.fromEntries(Object.entries(TRANSPORTS).map(([name, t]) => [name, t.label])) as Record<
    TransportName,
    string
  >),
};

type StepStatus = "passed" | "failed" | "skipped";

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
  /** The TLS the step's connection negotiated, on the mail steps. */
  tls?: TlsInfo;
};

export type CheckOutcome = { ok: boolean; steps: StepResult[]; durationMs: number };
