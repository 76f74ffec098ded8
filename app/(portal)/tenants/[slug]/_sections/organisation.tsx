import { ActionForm, TextAreaField } from "@/app/_components/action-form";
import { isSuperAdmin } from "@/lib/auth/actor";
import { formatUtc } from "@/lib/format-time";
import { directoryEntries } from "@/lib/tenants/directories";
import { saveTenantDirectoriesAction } from "../../actions";
import type { TenantSectionProps } from "./props";

const SOURCE = { "first-sign-in": "first successful sign-in", "super-admin": "super-admin" };

/**
 * The Microsoft organisations the tenant is bound to: shown to its admins, changed by super-admins
 * only. The first successful sign-in fills an empty list.
 */
export async function OrganisationSection({ db, actor, tenant }: Omit<TenantSectionProps, "mailboxes">) {
  const entries = await directoryEntries(db, tenant.id);
  return (
    <section aria-labelledby="organisation">
      <h2 id="organisation">Microsoft organisation</h2>
      <p className="hint">
        This tenant&apos;s mailboxes must be in these Microsoft organisations: a mailbox whose TenantID or Login domain
        is not listed is refused when saved, and a token Microsoft issues in another organisation is not used.
      </p>
      {entries.length === 0 ? (
        <p data-organisation="unbound">None yet: the first successful sign-in of a mailbox fills this list.</p>
      ) : (
        <table data-organisation="bound">
          <thead>
            <tr>
              <th scope="col">Tenant ID or domain</th>
              <th scope="col">Added by</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <code>{entry.value}</code>
                </td>
                <td>
                  {SOURCE[entry.source]} ({entry.addedBy})
                </td>
                <td>{formatUtc(entry.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isSuperAdmin(actor) && (
        <ActionForm action={saveTenantDirectoriesAction} submitLabel="Save organisations">
          <input type="hidden" name="tenantId" value={tenant.id} />
          <TextAreaField
            name="directories"
            label="Tenant IDs and verified domains"
            hint="One a line: the Directory (tenant) ID (a GUID) and the domains of the organisation's Logins. Empty: the next successful sign-in fills the list."
            defaultValue={entries.map((entry) => entry.value).join("\n")}
          />
        </ActionForm>
      )}
    </section>
  );
}
