import type { MailboxTest } from "@/db/schema";
import { SETUP_STEP_LABELS } from "@/lib/engine/diagnoses";
import type { StepResult } from "@/lib/engine/steps";

/** What a test was run on, in words; a refused API token request is recorded as a test too. */
export const TEST_SOURCE_LABELS: Record<MailboxTest["source"], string> = {
  saved: "saved settings",
  form: "unsaved form values",
  token: "an API token request",
  trial: "saved settings over the other transport (a trial, not switched)",
};

export type ReportHeader = {
  mailbox: string;
  /** The identities: the Login, and the Mailbox and Send as where they differ (describeIdentities). */
  login: string;
  tenant: string;
  startedAt: string;
  source: string;
  by: string;
  /** The credential and its expiry ("App-only: client secret, expires 2030-06-30"), for OAuth methods. */
  credential?: string;
};

/** The credential line of a report: the app-only credential and its expiry, or who the mailbox is signed in as. */
export function credentialLine(mailbox: {
  signInMethod: string;
  certificatePem: string | null;
  appCredentialExpiresAt: Date | null;
  signedInAccount?: string | null;
  signedInAt?: Date | null;
  signInLostAt?: Date | null;
}): string | undefined {
  if (mailbox.signInMethod === "device") {
    if (mailbox.signInLostAt) return "Microsoft sign-in: refused by Microsoft, sign in again";
    if (!mailbox.signedInAt) return "Microsoft sign-in: awaiting sign-in";
    return `Microsoft sign-in: ${mailbox.signedInAccount}, signed in ${mailbox.signedInAt.toISOString().slice(0, 10)}`;
  }
  if (mailbox.signInMethod !== "app") return undefined;
  const what = mailbox.certificatePem ? "certificate" : "client secret";
  const expires = mailbox.appCredentialExpiresAt;
  return `App-only: ${expires ? `${what}, expires ${expires.toISOString().slice(0, 10)}` : what}`;
}

/** The plain-text report for a support ticket; its server replies are already redacted. */
export function formatReport(
  header: ReportHeader,
  steps: Pick<StepResult, "name" | "status" | "durationMs" | "summary" | "diagnosis" | "tls">[],
  labels: Record<string, string>,
): string {
  const lines = [
    "Navigator Mail test report",
    `Mailbox:  ${header.mailbox} (${header.login})`,
    `Tenant:   ${header.tenant}`,
    `Started:  ${header.startedAt} by ${header.by}, ${TEST_SOURCE_LABELS[header.source as MailboxTest["source"]] ?? header.source}`,
    ...(header.credential ? [`Sign-in:  ${header.credential}`] : []),
    "",
  ];
  for (const step of steps) {
    lines.push(
      `[${step.status.toUpperCase()}] ${labels[step.name] ?? step.name} (${step.durationMs} ms${step.tls ? `, ${step.tls.version} ${step.tls.cipher}` : ""}): ${step.summary}`,
    );
    const d = step.diagnosis;
    if (d) {
      lines.push(
        `    code:       ${d.code}`,
        `    fix:        ${d.fix}`,
        `    setup step: ${SETUP_STEP_LABELS[d.setupStep]}`,
      );
      if (d.detail) lines.push(`    server:     ${d.detail}`);
      if (d.command) lines.push(...d.command.split("\n").map((line) => `    run:        ${line}`));
    }
  }
  return lines.join("\n");
}
