import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { StepList } from "@/app/_components/step-list";
import { formatReport } from "@/lib/checks/report";
import { getRunFor } from "@/lib/checks/test-runs";
import { STEP_LABELS, type StepName } from "@/lib/checks/types";
import { loadOr404 } from "@/lib/load-or-404";
import { loadMailboxPage } from "../../load";
import { MailboxNav } from "../../mailbox-nav";
import { OutcomeBadge } from "../../outcome-badge";
import { CopyReport } from "@/app/_components/copy-report";
import { formatUtc } from "@/lib/format-time";

export const metadata: Metadata = { title: "Test report" };

export default async function TestRunPage({ params }: { params: Promise<{ slug: string; mailboxId: string; runId: string }> }) {
  const { runId } = await params;
  const { actor, db, tenant, mailbox, base } = await loadMailboxPage(params);
  const id = Number(runId);
  if (!Number.isSafeInteger(id) || id <= 0) notFound();
  const run = loadOr404(() => getRunFor(db, actor, tenant.id, mailbox.id, id));
  const started = `${formatUtc(run.startedAt, "seconds")} UTC`;
  const report = formatReport({ mailbox: mailbox.name, login: mailbox.login, tenant: tenant.name, startedAt: started, source: run.source, by: run.triggeredBy }, run.steps as never, STEP_LABELS);
  return (
    <>
      <MailboxNav base={base} current="/tests" tenant={tenant} />
      <h1>Test of {mailbox.name}</h1>
      <p>
        {started} by {run.triggeredBy}, {run.source === "form" ? "unsaved form values" : "saved settings"}: <OutcomeBadge run={run} />
        {run.arrivalMs !== null && ` · message arrived after ${(run.arrivalMs / 1000).toFixed(2)} s`}
      </p>
      <StepList steps={run.steps.map((step) => ({ name: step.name, label: STEP_LABELS[step.name as StepName] ?? step.name, status: step.status, step }))} />
      <CopyReport text={report} />
    </>
  );
}
