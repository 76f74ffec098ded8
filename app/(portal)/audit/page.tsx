import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import type { AuditChange } from "@/db/schema";
import { listAuditFor } from "@/lib/audit/log";
import { requireActor } from "@/lib/auth/session";
import { formatUtc } from "@/lib/format-time";

export const metadata: Metadata = { title: "Audit log" };

const PAGE_SIZE = 100;

export default async function AuditPage({ searchParams }: { searchParams: Promise<{ before?: string }> }) {
  const actor = await requireActor();
  const before = Number((await searchParams).before) || undefined;
  const entries = await listAuditFor(getDb(), actor, { limit: PAGE_SIZE, beforeId: before });
  return (
    <>
      <h1>Audit log</h1>
      {entries.length === 0 ? (
        <p className="empty">Nothing recorded yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <time dateTime={entry.at.toISOString()}>{formatUtc(entry.at, "seconds")}</time>
                </td>
                <td>{entry.actorEmail}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>
                  {entry.targetType} {entry.targetLabel}
                </td>
                <td>
                  <ul className="plain changes">
                    {Object.entries(entry.changes).map(([field, change]) => (
                      <li key={field}>
                        <strong>{field}</strong>: {describeChange(change)}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries.length === PAGE_SIZE && (
        <p>
          <Link prefetch={false} href={`/audit?before=${entries[entries.length - 1]!.id}`}>
            Older entries
          </Link>
        </p>
      )}
    </>
  );
}

function describeChange(change: AuditChange): string {
  if (change === "changed") return "changed";
  const show = (v: unknown) => (v === null || v === undefined ? "—" : String(v));
  return "from" in change ? `${show(change.from)} → ${show(change.to)}` : show(change.to);
}
