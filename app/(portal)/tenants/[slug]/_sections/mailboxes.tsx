import Link from "next/link";
import { ListSearch, listHref, Pager } from "@/app/_components/pager";
import type { Db } from "@/db/client";
import type { Tenant } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { MAILBOX_TYPE_LABELS, SIGN_IN_METHOD_LABELS } from "@/lib/mailbox/fields";
import { listMailboxesPage } from "@/lib/mailbox/queries";
import { PAGE_SIZE, pageParam } from "@/lib/paging";
import { lastTestsFor } from "@/lib/service/test-history";
import { OutcomeBadge } from "../mailboxes/[mailboxId]/outcome-badge";

/** A page of the tenant's mailboxes with each one's sign-in and last test; a search once there is more than a page. */
export async function MailboxesSection({
  db,
  actor,
  tenant,
  total,
  query,
}: {
  db: Db;
  actor: UserActor;
  tenant: Tenant;
  total: number;
  query: { q?: string; page?: string };
}) {
  const q = query.q?.slice(0, 100) ?? "";
  const listed = await listMailboxesPage(db, actor, tenant.id, { q, page: pageParam(query.page) });
  const lastTests = await lastTestsFor(
    db,
    listed.rows.map((m) => m.id),
  );
  return (
    <section aria-labelledby="mailboxes">
      <div className="section-head">
        <h2 id="mailboxes">Mailboxes</h2>
        <Link prefetch={false} className="button" href={`/tenants/${tenant.slug}/mailboxes/new`}>
          Add mailbox
        </Link>
      </div>
      {total > PAGE_SIZE && (
        <ListSearch action={`/tenants/${tenant.slug}`} id="mailbox-search" q={q} placeholder="Name or login" />
      )}
      {listed.rows.length === 0 ? (
        <p className="empty">{q ? "No mailboxes match." : "No mailboxes are configured for this tenant yet."}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Login</th>
              <th scope="col">Type</th>
              <th scope="col">Sign-in</th>
              <th scope="col">Last test</th>
            </tr>
          </thead>
          <tbody>
            {listed.rows.map((mailbox) => (
              <tr key={mailbox.id}>
                <td>
                  <Link prefetch={false} href={`/tenants/${tenant.slug}/mailboxes/${mailbox.id}`}>
                    {mailbox.name}
                  </Link>
                </td>
                <td>{mailbox.login}</td>
                <td>
                  {MAILBOX_TYPE_LABELS[mailbox.type]}
                  {mailbox.transport === "graph" && <span className="badge">Microsoft Graph</span>}
                </td>
                <td>
                  {SIGN_IN_METHOD_LABELS[mailbox.method].short}
                  {mailbox.missing && <span className="badge badge-off">{mailbox.missing}</span>}
                </td>
                <td>
                  <OutcomeBadge test={lastTests.get(mailbox.id)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        page={listed.page}
        pages={listed.pages}
        href={(page) => listHref(`/tenants/${tenant.slug}`, { q }, page)}
      />
    </section>
  );
}
