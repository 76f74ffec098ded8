import type { Metadata } from "next";
import Link from "next/link";
import { ListSearch, listHref, Pager } from "@/app/_components/pager";
import { getDb } from "@/db/client";
import { requireActor } from "@/lib/auth/session";
import { formatUtc } from "@/lib/format-time";
import { pageParam } from "@/lib/paging";
import { MAILBOX_STATES, type MailboxState, STATE_LABELS, type StatusRow, statusPage } from "@/lib/service/status";

export const metadata: Metadata = { title: "Status" };

type Props = { searchParams: Promise<{ state?: string; q?: string; page?: string }> };

/**
 * Every mailbox the signed-in admin may see, worst first, with 30 days of tests as a small picture. It
 * needs no JavaScript of its own: filters and pages are links, the search is a GET form.
 */
export default async function StatusPage({ searchParams }: Props) {
  const actor = await requireActor();
  const params = await searchParams;
  const state = MAILBOX_STATES.find((s) => s === params.state);
  const q = params.q?.slice(0, 100) ?? "";
  const page = pageParam(params.page);
  const now = Date.now();
  const status = await statusPage(getDb(), actor, { state, q, page }, now);
  const href = (changes: { state?: MailboxState | null; page?: number }) =>
    listHref(
      "/status",
      { state: changes.state === undefined ? state : (changes.state ?? undefined), q },
      changes.page ?? 1,
    );
  const all = Object.values(status.counts).reduce((a, b) => a + b, 0);
  return (
    <>
      <h1>Status</h1>
      <nav aria-label="Filter by state" className="state-filters">
        <Link prefetch={false} href={href({ state: null })} aria-current={!state ? "page" : undefined}>
          All <span className="count">{all}</span>
        </Link>
        {MAILBOX_STATES.map((s) => (
          <Link
            prefetch={false}
            key={s}
            href={href({ state: s })}
            aria-current={state === s ? "page" : undefined}
            data-state={s}
          >
            {STATE_LABELS[s]} <span className="count">{status.counts[s]}</span>
          </Link>
        ))}
      </nav>
      <ListSearch action="/status" id="status-search" q={q} placeholder="Mailbox, login or tenant" keep={{ state }} />
      {status.rows.length === 0 ? (
        <p className="empty">No mailboxes {state || q ? "match" : "yet"}.</p>
      ) : (
        <table className="status-table">
          <thead>
            <tr>
              <th scope="col">Mailbox</th>
              <th scope="col">Tenant</th>
              <th scope="col">State</th>
              <th scope="col">Last 30 days</th>
            </tr>
          </thead>
          <tbody>
            {status.rows.map((row) => (
              <tr key={row.id} data-mailbox={row.id}>
                <td>
                  <Link prefetch={false} href={`/tenants/${row.tenantSlug}/mailboxes/${row.id}`}>
                    {row.name}
                  </Link>
                  <div className="muted">{row.login}</div>
                  {row.signInMethod === "password" && (
                    <div className="notice" data-retiring="">
                      Uses a retiring sign-in method (the password grant):{" "}
                      <Link prefetch={false} href={`/tenants/${row.tenantSlug}/migration`}>
                        move it
                      </Link>
                    </div>
                  )}
                </td>
                <td>{row.tenantName}</td>
                <td>
                  <span className={`badge state-${row.state}`} data-state={row.state}>
                    {stateText(row, now)}
                  </span>
                  {row.lastTestAt && (
                    <div className="muted">
                      Last test {formatUtc(row.lastTestAt)} UTC
                      {row.lastTlsVersion && <span data-tls>, {row.lastTlsVersion.replace("TLSv", "TLS ")}</span>}
                    </div>
                  )}
                </td>
                <td>
                  <Timeline days={row.days} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager page={status.page} pages={status.pages} href={(page) => href({ page })} />
    </>
  );
}

function stateText(row: StatusRow, now: number): string {
  switch (row.state) {
    case "failing":
      return `Failing since ${row.healthSince ? formatUtc(row.healthSince) : "the last test"}${row.lastFailureCode ? ` (${row.lastFailureCode})` : ""}`;
    case "expiring": {
      const days = Math.floor(((row.credentialExpiresAt?.getTime() ?? now) - now) / 86_400_000);
      return days < 0 ? "Credential expired" : `Credential expires in ${days} day${days === 1 ? "" : "s"}`;
    }
    case "stale":
      return "Stale: no test for over a day";
    case "needs-sign-in":
      return "Needs sign-in with Microsoft";
    case "awaiting-sign-in":
      return "Awaiting its first Microsoft sign-in (not tested until then)";
    case "never-tested":
      return "Never tested";
    default:
      return "Healthy";
  }
}

const BAR = 6;
const GAP = 2;
const HEIGHT = 24;

const FILL = { passed: "#1f9d55", failed: "#c0392b", none: "#cbd5e1" } as const;

/**
 * One bar per day, drawn on the server: red with a failure that day, green when all passed, grey
 * without a test; the height follows the mean test time (longer is taller, up to 30 s). Bars of one
 * outcome are one path, and the picture goes into the page as one small image, not as 30 elements
 * per row for the browser to build.
 */
function Timeline({ days }: { days: StatusRow["days"] }) {
  const width = days.length * (BAR + GAP);
  const failedDays = days.filter((d) => d.failed > 0).length;
  const testedDays = days.filter((d) => d.passed + d.failed > 0).length;
  const paths: Record<keyof typeof FILL, string[]> = { passed: [], failed: [], none: [] };
  days.forEach((day, i) => {
    const tests = day.passed + day.failed;
    const height = tests === 0 ? 4 : Math.max(6, Math.min(HEIGHT, 6 + (day.meanMs / 30_000) * (HEIGHT - 6)));
    const kind = tests === 0 ? "none" : day.failed > 0 ? "failed" : "passed";
    paths[kind].push(`M${i * (BAR + GAP)} ${+(HEIGHT - height).toFixed(1)}h${BAR}V${HEIGHT}h-${BAR}z`);
  });
  const drawn = (Object.keys(paths) as (keyof typeof FILL)[])
    .filter((kind) => paths[kind].length > 0)
    .map((kind) => `<path class='day-${kind}' fill='${FILL[kind]}' d='${paths[kind].join("")}'/>`);
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${HEIGHT}'>${drawn.join("")}</svg>`;
  const failures = days.flatMap((day, i) => (day.failed > 0 ? [days.length - 1 - i] : []));
  return (
    // biome-ignore lint/performance/noImgElement: a data: URI drawn on the server; next/image has nothing to optimize
    <img
      className="timeline"
      src={svgDataUri(svg)}
      width={width}
      height={HEIGHT}
      alt={`Tested on ${testedDays} of the last ${days.length} days; failures on ${failedDays}`}
      title={
        failures.length > 0
          ? `Failures ${failures.map((ago) => (ago === 0 ? "today" : `${ago} d ago`)).join(", ")}`
          : undefined
      }
    />
  );
}

/** An SVG as a data: URI, escaping only what a URI cannot hold as it is (a third of encodeURIComponent's size). */
function svgDataUri(svg: string): string {
  return `data:image/svg+xml,${svg.replace(/[%#<>"\s]/g, (c) => (c === " " ? "%20" : encodeURIComponent(c)))}`;
}
