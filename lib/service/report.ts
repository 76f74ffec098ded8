import { SETUP_STEP_LABELS } from "@/lib/engine/diagnoses";
import type { StepResult } from "@/lib/engine/steps";

export type ReportHeader = {
  mailbox: string;
  login: string;
  tenant: string;
  startedAt: string;
  source: string;
  by: string;
};

/** The plain-text report for a support ticket; its server replies are already redacted. */
export function formatReport(
  header: ReportHeader,
  steps: Pick<StepResult, "name" | "status" | "durationMs" | "summary" | "diagnosis">[],
  labels: Record<string, string>,
): string {
  const lines = [
    "Navigator Mail test report",
    `Mailbox:  ${header.mailbox} (${header.login})`,
    `Tenant:   ${header.tenant}`,
    `Started:  ${header.startedAt} by ${header.by}, ${header.source === "form" ? "unsaved form values" : "saved settings"}`,
    "",
  ];
  for (const step of steps) {
    lines.push(
      `[${step.status.toUpperCase()}] ${labels[step.name] ?? step.name} (${step.durationMs} ms): ${step.summary}`,
    );
    const d = step.diagnosis;
    if (d) {
      lines.push(
        `    code:       ${d.code}`,
        `    fix:        ${d.fix}`,
        `    setup step: ${SETUP_STEP_LABELS[d.setupStep]}`,
      );
      if (d.detail) lines.push(`    server:     ${d.detail}`);
    }
  }
  return lines.join("\n");
}
