import type { Diagnosis, StepResult } from "./types";

export const SETUP_STEP_LABELS: Record<Diagnosis["setupStep"], string> = {
  "register-app": "Register the application in Microsoft Entra ID",
  "client-id": "Azure Application ClientID",
  "tenant-id": "Azure Application TenantID",
  "api-permissions": "API permissions (SMTP.Send, IMAP.AccessAsUser.All)",
  "admin-consent": "Grant admin consent",
  "public-client-flows": "Allow public client flows",
  "conditional-access": "MFA and Conditional Access",
  account: "The mailbox user's account",
  login: "Login",
  password: "Password",
  "exchange-smtp-auth": "Authenticated SMTP for the mailbox (Exchange)",
  "exchange-imap": "IMAP for the mailbox (Exchange)",
  servers: "SMTP/IMAP Server and Port",
  tls: "Port and Use TLS",
  product: "Navigator Mail itself",
};

export type ReportHeader = { mailbox: string; login: string; tenant: string; startedAt: string; source: string; by: string };

/** The plain-text report for a support ticket; its server replies are already redacted. */
export function formatReport(header: ReportHeader, steps: Pick<StepResult, "name" | "status" | "durationMs" | "summary" | "diagnosis">[], labels: Record<string, string>): string {
  const lines = [
    "Navigator Mail test report",
    `Mailbox:  ${header.mailbox} (${header.login})`,
    `Tenant:   ${header.tenant}`,
    `Started:  ${header.startedAt} by ${header.by}, ${header.source === "form" ? "unsaved form values" : "saved settings"}`,
    "",
  ];
  for (const step of steps) {
    lines.push(`[${step.status.toUpperCase()}] ${labels[step.name] ?? step.name} (${step.durationMs} ms): ${step.summary}`);
    const d = step.diagnosis;
    if (d) {
      lines.push(`    code:       ${d.code}`, `    fix:        ${d.fix}`, `    setup step: ${SETUP_STEP_LABELS[d.setupStep] ?? d.setupStep}`);
      if (d.detail) lines.push(`    server:     ${d.detail}`);
    }
  }
  return lines.join("\n");
}
