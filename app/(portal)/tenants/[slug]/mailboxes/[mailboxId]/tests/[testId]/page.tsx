import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { CopyReport } from "@/app/_components/copy-report";
import { StepList } from "@/app/_components/step-list";
import { describeIdentities } from "@/lib/engine/settings";
import { STEP_LABELS } from "@/lib/engine/steps";
import { formatUtc } from "@/lib/format-time";
import { loadOr404 } from "@/lib/load-or-404";
import { credentialLine, formatReport, TEST_SOURCE_LABELS } from "@/lib/service/report";
import { getTestFor } from "@/lib/service/test-history";
import { loadMailboxPage } from "../../load";
import { MailboxNav } from "../../mailbox-nav";
import { OutcomeBadge } from "../../outcome-badge";

export const metadata: Metadata = { title: "Test report" };

export default async function TestReportPage({
  params,
}: {
  params: Promise<{ slug: string; mailboxId: string; testId: string }>;
}) {
  const { testId } = await params;
  const { actor, db, tenant, mailbox, base } = await loadMailboxPage(params);
  const id = Number(testId);
  if (!Number.isSafeInteger(id) || id <= 0) notFound();
  const test = await loadOr404(async () => getTestFor(db, actor, tenant.id, mailbox.id, id));
  const started = `${formatUtc(test.startedAt, "seconds")} UTC`;
  const report = formatReport(
    {
      mailbox: mailbox.name,
      login: describeIdentities(mailbox),
      tenant: tenant.name,
      startedAt: started,
      source: test.source,
      by: test.triggeredBy,
      credential: credentialLine(mailbox),
    },
    test.steps,
    STEP_LABELS,
  );
  return (
    <>
      <MailboxNav base={base} current="/tests" tenant={tenant} />
      <h1>Test of {mailbox.name}</h1>
      <p>
        {started} by {test.triggeredBy}, {TEST_SOURCE_LABELS[test.source]}: <OutcomeBadge test={test} />
        {test.arrivalMs !== null && ` · message arrived after ${(test.arrivalMs / 1000).toFixed(2)} s`}
      </p>
      <StepList
        steps={test.steps.map((step) => ({
          name: step.name,
          label: STEP_LABELS[step.name],
          status: step.status,
          step,
        }))}
      />
      <CopyReport text={report} />
    </>
  );
}
