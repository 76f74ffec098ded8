import { Pager } from "@/app/_components/pager";
import { MAIL_TRANSPORT_LABELS, SIGN_IN_METHOD_LABELS } from "@/lib/mailbox/fields";
import { MIGRATION_STATE_LABELS, type MigrationOverview } from "@/lib/service/migration";
import { MigrationList } from "./migration-list";

/**
 * The migration view, for a tenant or across tenants: mailboxes counted by sign-in method and
 * transport, then those on the password grant with their moves.
 */
export function MigrationView({
  overview,
  showTenant,
  path,
}: {
  overview: MigrationOverview;
  showTenant: boolean;
  /** The view's own address, for its pages. */
  path: string;
}) {
  return (
    <>
      <p>
        The setup guide&apos;s password grant is retiring: Microsoft&apos;s libraries deprecate it, MFA blocks it, and
        Exchange Online turns basic SMTP AUTH off by default at the end of December 2026. Move each mailbox to the
        Microsoft sign-in (its user signs in once, MFA included) or to app-only (the app signs in by itself). A move is
        made only when a full test with the new sign-in passes; otherwise the mailbox stays as it is.
      </p>
      <h2>Sign-in methods</h2>
      <table className="counts" data-migration-counts="">
        <caption>Mailboxes by sign-in method and transport</caption>
        <thead>
          <tr>
            <th scope="col">Sign-in method</th>
            <th scope="col">Transport</th>
            <th scope="col">Mailboxes</th>
          </tr>
        </thead>
        <tbody>
          {overview.counts.map((c) => (
            <tr
              key={`${c.signInMethod}-${c.transport}`}
              data-count={`${c.signInMethod}/${c.transport}`}
              className={c.signInMethod === "password" ? "retiring" : undefined}
            >
              <td>
                {SIGN_IN_METHOD_LABELS[c.signInMethod].short}
                {c.signInMethod === "password" && <span className="badge warn"> retiring</span>}
              </td>
              <td>{MAIL_TRANSPORT_LABELS[c.transport]}</td>
              <td>{c.mailboxes}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>On the password grant ({overview.total})</h2>
      <MigrationList
        showTenant={showTenant}
        donors={overview.donors}
        rows={overview.rows.map((row) => ({
          id: row.id,
          tenantId: row.tenantId,
          tenantSlug: row.tenantSlug,
          tenantName: row.tenantName,
          name: row.name,
          login: row.login,
          transport: MAIL_TRANSPORT_LABELS[row.transport],
          version: row.version,
          state: row.state,
          stateLabel: MIGRATION_STATE_LABELS[row.state],
          lastFailureCode: row.lastFailureCode,
          target: row.target,
        }))}
      />
      <Pager page={overview.page} pages={overview.pages} href={(page) => (page > 1 ? `${path}?page=${page}` : path)} />
    </>
  );
}
