import type { Metadata } from "next";
import Link from "next/link";
import { ActionForm, Field, SelectField } from "@/app/_components/action-form";
import { getDb } from "@/db/client";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { CLOUD_OPTIONS, MAILBOX_FIELDS, MAILBOX_TYPE_LABELS } from "@/lib/mailbox/fields";
import { listMailboxesFor } from "@/lib/mailbox/queries";
import { lastTestsFor } from "@/lib/service/test-history";
import { getTenantBySlugFor } from "@/lib/tenants/queries";
import { listUsersFor } from "@/lib/users/queries";
import { renameTenantAction, saveTenantDefaultsAction } from "../actions";
import { OutcomeBadge } from "./mailboxes/[mailboxId]/outcome-badge";

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ deleted?: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await params).slug };
}

export default async function TenantPage({ params, searchParams }: Props) {
  const actor = await requireActor();
  const { slug } = await params;
  const db = getDb();
  const tenant = loadOr404(() => getTenantBySlugFor(db, actor, slug));
  const admins = listUsersFor(db, actor).filter((user) => user.tenantId === tenant.id);
  const mailboxes = listMailboxesFor(db, actor, tenant.id);
  const lastTests = lastTestsFor(
    db,
    mailboxes.map((m) => m.id),
  );
  const { deleted } = await searchParams;
  return (
    <>
      <p className="breadcrumbs">{isSuperAdmin(actor) && <Link href="/tenants">Tenants</Link>}</p>
      <h1>{tenant.name}</h1>
      <p className="muted">
        Slug <code>{tenant.slug}</code>
      </p>

      {deleted && <p className="notice">Mailbox {deleted} deleted.</p>}
      <section aria-labelledby="mailboxes">
        <div className="section-head">
          <h2 id="mailboxes">Mailboxes</h2>
          <Link className="button" href={`/tenants/${tenant.slug}/mailboxes/new`}>
            Add mailbox
          </Link>
        </div>
        {mailboxes.length === 0 ? (
          <p className="empty">No mailboxes are configured for this tenant yet.</p>
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
              {mailboxes.map((mailbox) => (
                <tr key={mailbox.id}>
                  <td>
                    <Link href={`/tenants/${tenant.slug}/mailboxes/${mailbox.id}`}>{mailbox.name}</Link>
                  </td>
                  <td>{mailbox.login}</td>
                  <td>{MAILBOX_TYPE_LABELS[mailbox.type]}</td>
                  <td>
                    {mailbox.oauth ? "Microsoft 365 (OAuth)" : "Password"}
                    {!mailbox.passwordSet && <span className="badge badge-off">no password</span>}
                  </td>
                  <td>
                    <OutcomeBadge test={lastTests.get(mailbox.id)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="admins">
        <h2 id="admins">Tenant admins</h2>
        {admins.length === 0 ? (
          <p className="empty">
            No tenant admins yet. <Link href="/users">Add one on the Users page.</Link>
          </p>
        ) : (
          <ul className="plain">
            {admins.map((user) => (
              <li key={user.id}>
                {user.name} &lt;{user.email}&gt;{user.disabled && <span className="badge badge-off">disabled</span>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="defaults">
        <h2 id="defaults">Default app registration</h2>
        <p className="hint">
          New mailboxes of this tenant start with these Azure fields; each mailbox can change them.
        </p>
        <ActionForm action={saveTenantDefaultsAction} submitLabel="Save defaults">
          <input type="hidden" name="tenantId" value={tenant.id} />
          <Field
            name="azureClientId"
            label={MAILBOX_FIELDS.azureClientId.label}
            hint={MAILBOX_FIELDS.azureClientId.help}
            defaultValue={tenant.defaultAzureClientId ?? undefined}
            autoComplete="off"
            maxLength={100}
          />
          <Field
            name="azureTenantId"
            label={MAILBOX_FIELDS.azureTenantId.label}
            hint={MAILBOX_FIELDS.azureTenantId.help}
            defaultValue={tenant.defaultAzureTenantId ?? undefined}
            autoComplete="off"
            maxLength={253}
          />
          <SelectField
            name="cloud"
            label={MAILBOX_FIELDS.cloud.label}
            hint={MAILBOX_FIELDS.cloud.help}
            options={CLOUD_OPTIONS}
            defaultValue={tenant.defaultCloud ?? "global"}
          />
        </ActionForm>
      </section>

      {isSuperAdmin(actor) && (
        <section aria-labelledby="rename">
          <h2 id="rename">Rename</h2>
          <ActionForm action={renameTenantAction} submitLabel="Rename">
            <input type="hidden" name="tenantId" value={tenant.id} />
            <Field name="name" label="Name" defaultValue={tenant.name} maxLength={100} />
          </ActionForm>
        </section>
      )}
    </>
  );
}
