import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { ActionForm, Field } from "@/app/_components/action-form";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { getTenantBySlugFor } from "@/lib/tenants/queries";
import { listUsersFor } from "@/lib/users/queries";
import { renameTenantAction } from "../actions";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await params).slug };
}

export default async function TenantPage({ params }: Props) {
  const actor = await requireActor();
  const { slug } = await params;
  const db = getDb();
  const tenant = loadOr404(() => getTenantBySlugFor(db, actor, slug));
  const admins = listUsersFor(db, actor).filter((user) => user.tenantId === tenant.id);
  return (
    <>
      <p className="breadcrumbs">{isSuperAdmin(actor) && <Link href="/tenants">Tenants</Link>}</p>
      <h1>{tenant.name}</h1>
      <p className="muted">
        Slug <code>{tenant.slug}</code>
      </p>

      <section aria-labelledby="mailboxes">
        <h2 id="mailboxes">Mailboxes</h2>
        <p className="empty">No mailboxes are configured for this tenant yet.</p>
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
