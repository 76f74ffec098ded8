import type { Metadata } from "next";
import Link from "next/link";
import { formatMs } from "@/app/_components/step-list";
import { STEP_LABELS } from "@/lib/engine/steps";
import { formatUtc } from "@/lib/format-time";
import { TEST_SOURCE_LABELS } from "@/lib/service/report";
import { listTestsFor } from "@/lib/service/test-history";
import { loadMailboxPage } from "../load";
import { MailboxNav } from "../mailbox-nav";
import { OutcomeBadge } from "../outcome-badge";

export const metadata: Metadata = { title: "Test history" };

export default async function TestHistoryPage({ params }: { params: Promise<{ slug: string; mailboxId: string }> }) {
  const { actor, db, tenant, mailbox, base } = await loadMailboxPage(params);
  const tests = listTestsFor(db, actor, tenant.id, mailbox.id);
  return (
    <>
      <MailboxNav base={base} current="/tests" tenant={tenant} />
      <h1>Test history of {mailbox.name}</h1>
      {tests.length === 0 ? (
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
            {tests.map((test) => (
              <tr key={test.id}>
                <td>
                  <Link href={`${base}/tests/${test.id}`}>{formatUtc(test.startedAt, "seconds")}</Link>
                </td>
                <td>{test.triggeredBy}</td>
                <td>{sentenceCase(TEST_SOURCE_LABELS[test.source])}</td>
                <td>
                  <OutcomeBadge test={test} />
                </td>
                <td className="step-durations">
                  {test.steps
                    .map(
                      (step) =>
                        `${STEP_LABELS[step.name]} ${step.status === "skipped" ? "skipped" : formatMs(step.durationMs)}`,
                    )
                    .join(" · ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function sentenceCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
