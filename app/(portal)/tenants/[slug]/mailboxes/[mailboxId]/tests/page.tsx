import type { Metadata } from "next";
import Link from "next/link";
import { ListSearch, listHref, Pager } from "@/app/_components/pager";
import { formatMs } from "@/app/_components/step-list";
import { STEP_LABELS } from "@/lib/engine/steps";
import { formatUtc } from "@/lib/format-time";
import { pageParam } from "@/lib/paging";
import { TEST_SOURCE_LABELS } from "@/lib/service/report";
import { listTestsPage } from "@/lib/service/test-history";
import { loadMailboxPage } from "../load";
import { MailboxNav } from "../mailbox-nav";
import { OutcomeBadge } from "../outcome-badge";

export const metadata: Metadata = { title: "Test history" };

type Props = {
  params: Promise<{ slug: string; mailboxId: string }>;
  searchParams: Promise<{ outcome?: string; q?: string; page?: string }>;
};

const OUTCOME_FILTERS = [
  { value: undefined, label: "All" },
  { value: "failed", label: "Failed" },
  { value: "passed", label: "Passed" },
] as const;

export default async function TestHistoryPage({ params, searchParams }: Props) {
  const { actor, db, tenant, mailbox, base } = await loadMailboxPage(params);
  const query = await searchParams;
  const outcome = query.outcome === "passed" || query.outcome === "failed" ? query.outcome : undefined;
  const q = query.q?.slice(0, 100) ?? "";
  const list = await listTestsPage(
    db,
    actor,
    { tenantId: tenant.id, mailboxId: mailbox.id },
    { outcome, who: q, page: pageParam(query.page) },
  );
  const tests = list.rows;
  const href = (page: number, chosen = outcome) => listHref(`${base}/tests`, { outcome: chosen, q }, page);
  return (
    <>
      <MailboxNav base={base} current="/tests" tenant={tenant} />
      <h1>Test history of {mailbox.name}</h1>
      <nav aria-label="Filter by outcome" className="state-filters">
        {OUTCOME_FILTERS.map((filter) => (
          <Link
            prefetch={false}
            key={filter.label}
            href={href(1, filter.value)}
            aria-current={outcome === filter.value ? "page" : undefined}
          >
            {filter.label}
          </Link>
        ))}
      </nav>
      <ListSearch
        action={`${base}/tests`}
        id="history-search"
        q={q}
        placeholder="Who: scheduler, an email, a key"
        keep={{ outcome }}
      />
      {tests.length === 0 ? (
        <p className="empty">{outcome || q ? "No tests match." : "No tests yet."}</p>
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
                  <Link prefetch={false} href={`${base}/tests/${test.id}`}>
                    {formatUtc(test.startedAt, "seconds")}
                  </Link>
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
      <Pager page={list.page} pages={list.pages} href={(page) => href(page)} />
    </>
  );
}

function sentenceCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
