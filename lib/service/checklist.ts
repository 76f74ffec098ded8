import type { Mailbox, MailboxTest } from "@/db/schema";
import type { SetupStep } from "@/lib/engine/diagnoses";
import { usesImap, usesSmtp } from "@/lib/engine/settings";
import type { StepName, StepResult } from "@/lib/engine/steps";

export type ChecklistStatus = "passed" | "failed" | "unknown" | "not-needed";

export type ChecklistItem = {
  key: SetupStep;
  title: string;
  how: string;
  value?: string;
  status: ChecklistStatus;
  note?: string;
};

type Definition = {
  key: SetupStep;
  title: string;
  how: string;
  provenBy: StepName;
  oauthOnly: boolean;
  needs?: (m: Pick<Mailbox, "type">) => boolean;
  value?: (m: Mailbox) => string | undefined;
};

const ITEMS: Definition[] = [
  {
    key: "register-app",
    title: "Register the application",
    how: "Microsoft Entra ID → App registrations → New registration. Any name; for who can use it choose “Accounts in this organizational directory only” (single tenant), then Register.",
    provenBy: "token",
    oauthOnly: true,
  },
  {
    key: "client-id",
    title: "Copy the Application (client) ID",
    how: "From the app's Overview page into Azure Application ClientID.",
    provenBy: "token",
    oauthOnly: true,
    value: (m) => m.azureClientId ?? undefined,
  },
  {
    key: "tenant-id",
    title: "Copy the Directory (tenant) ID",
    how: "From the same Overview page into Azure Application TenantID.",
    provenBy: "token",
    oauthOnly: true,
    value: (m) => m.azureTenantId ?? undefined,
  },
  {
    key: "api-permissions",
    title: "Add the SMTP and IMAP permissions",
    how: "API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Delegated permissions: SMTP.Send to send, IMAP.AccessAsUser.All to receive.",
    provenBy: "claims",
    oauthOnly: true,
  },
  {
    key: "admin-consent",
    title: "Grant admin consent",
    how: "API permissions → Grant admin consent for your organisation; the permissions then show green ticks.",
    provenBy: "token",
    oauthOnly: true,
  },
  {
    key: "public-client-flows",
    title: "Allow public client flows",
    how: "Authentication → Advanced settings → Allow public client flows → Yes, then Save. It is off by default.",
    provenBy: "token",
    oauthOnly: true,
  },
  {
    key: "exchange-smtp-auth",
    title: "Enable authenticated SMTP for the mailbox",
    how: "Microsoft 365 admin center → Users → the user → Mail → Manage email apps → Authenticated SMTP (and the organisation-wide SMTP AUTH setting).",
    provenBy: "smtp",
    oauthOnly: false,
    needs: (m) => usesSmtp(m.type),
  },
  {
    key: "exchange-imap",
    title: "Enable IMAP for the mailbox",
    how: "Microsoft 365 admin center → Users → the user → Mail → Manage email apps → IMAP.",
    provenBy: "imap",
    oauthOnly: false,
    needs: (m) => usesImap(m.type),
  },
];

/** The setup guide's steps for this mailbox, each ticked or crossed from the last finished test. */
export function setupChecklist(mailbox: Mailbox, lastTest: MailboxTest | undefined): ChecklistItem[] {
  const oauth = mailbox.azureClientId !== null;
  const steps = lastTest?.steps ?? [];
  const failed = steps.find((s) => s.status === "failed");
  return ITEMS.map((item) => {
    const base = { key: item.key, title: item.title, how: item.how, value: item.value?.(mailbox) };
    if ((item.oauthOnly && !oauth) || (item.needs && !item.needs(mailbox)))
      return { ...base, status: "not-needed" as const };
    return { ...base, ...statusFrom(item, steps, failed) };
  });
}

function statusFrom(
  item: Definition,
  steps: StepResult[],
  failed: StepResult | undefined,
): { status: ChecklistStatus; note?: string } {
  if (steps.length === 0) return { status: "unknown", note: "Not tested yet" };
  if (failed?.diagnosis?.setupStep === item.key) return { status: "failed", note: failed.diagnosis.cause };
  const proving = steps.find((s) => s.name === item.provenBy);
  if (proving?.status === "passed") return { status: "passed" };
  return { status: "unknown", note: failed ? `Not reached: ${failed.summary}` : undefined };
}
