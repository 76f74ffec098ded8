import type { Metadata } from "next";
import Link from "next/link";
import { ListSearch, listHref } from "@/app/_components/pager";
import { getDb } from "@/db/client";
import type { AlertKind } from "@/db/schema";
import { requireActor } from "@/lib/auth/session";
import { formatUtc } from "@/lib/format-time";
import { pageParam } from "@/lib/paging";
import { type AlertRow, listAlerts } from "@/lib/service/alerts/list";
import { tenantTabHref } from "../tenants/[slug]/_sections/tenant-frame";

export const metadata: Metadata = { title: "Alerts" };

type Props = { searchParams: Promise<{ q?: string; tenant?: string; page?: string }> };

const KIND_LABELS: Record<AlertKind, string> = {
  failing: "Failing",
  "needs-sign-in": "Needs sign-in",
  expiring: "Expiring",
  "awaiting-sign-in": "Awaiting sign-in",
  recovered: "Recovered",
  reminder: "Reminder",
  test: "Test",
};

/** Every alert the admin may see, newest first, with what became of it on each channel. */
export default async function AlertsPage({ searchParams }: Props) {
  const actor = await requireActor();
  const params = await searchParams;
  const q = params.q?.slice(0, 100) ?? "";
  const tenant = params.tenant?.slice(0, 40);
  const page = pageParam(params.page);
  const list = await listAlerts(getDb(), actor, { q, tenant, page });
  const href = (to: number) => listHref("/alerts", { q, tenant }, to);
  return (
    <>
      <h1>Alerts</h1>
      <ListSearch action="/alerts" id="alert-search" q={q} placeholder="Mailbox or tenant" keep={{ tenant }} />
      {list.rows.length === 0 ? (
        <p className="empty">No alerts {q || tenant ? "match" : "yet"}.</p>
      ) : (
        <table className="alerts-table">
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Alert</th>
              <th scope="col">Tenant</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            {list.rows.map((row) => (
              <tr key={row.id} data-alert={row.id} data-kind={row.kind}>
                <td>{formatUtc(row.createdAt)}</td>
                <td>
                  <span className={`badge alert-${row.kind}`}>{KIND_LABELS[row.kind]}</span>{" "}
                  {row.mailboxId ? (
                    <Link prefetch={false} href={`/tenants/${row.tenantSlug}/mailboxes/${row.mailboxId}`}>
                      {row.title}
                    </Link>
                  ) : (
                    row.title
                  )}
                  <div className="muted">{row.detail}</div>
                </td>
                <td>
                  <Link prefetch={false} href={tenantTabHref(row.tenantSlug, "/alerts")}>
                    {row.tenantName}
                  </Link>
                </td>
                <td>
                  <Deliveries row={row} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(page > 1 || list.hasMore) && (
        <nav aria-label="Pages" className="pager">
          {page > 1 && (
            <Link prefetch={false} href={href(page - 1)}>
              Newer
            </Link>
          )}
          <span>Page {list.page}</span>
          {list.hasMore && (
            <Link prefetch={false} href={href(page + 1)}>
              Older
            </Link>
          )}
        </nav>
      )}
    </>
  );
}

function Deliveries({ row }: { row: AlertRow }) {
  if (row.deliveries.length === 0) return <span className="muted">No channel</span>;
  return (
    <ul className="plain">
      {row.deliveries.map((d) => (
        <li key={d.channelName} data-delivery={d.status}>
          {d.channelName}:{" "}
          {d.status === "delivered"
            ? `delivered ${d.deliveredAt ? formatUtc(d.deliveredAt, "seconds") : ""}`
            : d.status === "failed"
              ? `failed after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}: ${d.lastError ?? ""}`
              : d.attempts > 0
                ? `retrying at ${formatUtc(d.nextAttemptAt, "seconds")} (${d.attempts} failed: ${d.lastError ?? ""})`
                : "sending"}
        </li>
      ))}
    </ul>
  );
}
