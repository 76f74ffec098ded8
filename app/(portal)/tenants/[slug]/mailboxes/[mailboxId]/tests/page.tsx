import type { Metadata } from "next";
import Link from "next/link";
import { formatMs } from "@/app/_components/step-list";
import { listRunsFor } from "@/lib/checks/test-runs";
import { STEP_LABELS, type StepName } from "@/lib/checks/types";
import { loadMailboxPage } from "../load";
import { MailboxNav } from "../mailbox-nav";
import { OutcomeBadge } from "../outcome-badge";
import { formatUtc } from "@/lib/format-time";

export const metadata: Metadata = { title: "Test history" };

export default async function TestHistoryPage({ params }: { params: Promise<{ slug: string; mailboxId: string }> }) {
  const { actor, db, tenant, mailbox, base } = await loadMailboxPage(params);
  const runs = listRunsFor(db, actor, tenant.id, mailbox.id);
  return (
    <>
      <MailboxNav base={base} current="/tests" tenant={tenant} />
      <h1>Test history of {mailbox.name}</h1>
      {runs.length === 0 ? (
        <p className="empty">No tests yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Who</th>
              <th scope="col">Settings</th>
              <th scope="col">Outcome</th>
              <th scope="col">Steps</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td>
                  <Link href={`${base}/tests/${run.id}`}>{formatUtc(run.startedAt, "seconds")}</Link>
                </td>
                <td>{run.triggeredBy}</td>
                <td>{run.source === "form" ? "Unsaved form values" : "Saved"}</td>
                <td>
                  <OutcomeBadge run={run} />
                </td>
                <td className="step-durations">
                  {run.steps.map((step) => `${STEP_LABELS[step.name as StepName] ?? step.name} ${step.status === "skipped" ? "skipped" : formatMs(step.durationMs)}`).join(" · ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
