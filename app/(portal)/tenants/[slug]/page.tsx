import type { Metadata } from "next";
import Link from "next/link";
import { ActionForm, Field } from "@/app/_components/action-form";
import { getDb } from "@/db/client";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { listMailboxesFor } from "@/lib/mailbox/queries";
import { getTenantBySlugFor } from "@/lib/tenants/queries";
import { renameTenantAction } from "../actions";
import { AdminsSection } from "./_sections/admins";
import { AlertsSection } from "./_sections/alerts";
import { ApiKeysSection } from "./_sections/api-keys";
import { DefaultsSection } from "./_sections/defaults";
import { EntraSetupSection } from "./_sections/entra-setup";
import { MailboxesSection } from "./_sections/mailboxes";
import { MonitoringSection } from "./_sections/monitoring";
import { OrganisationSection } from "./_sections/organisation";

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ deleted?: string; q?: string; page?: string }>;
};

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await params).slug };
}

/** A tenant: its mailboxes, admins, default app registration, monitoring, alerts and API keys, a section each. */
export default async function TenantPage({ params, searchParams }: Props) {
  const actor = await requireActor();
  const { slug } = await params;
  const db = getDb();
  const tenant = loadOr404(() => getTenantBySlugFor(db, actor, slug));
  const query = await searchParams;
  // Every mailbox, for the forms' choices (at most MAX_MAILBOXES_PER_TENANT).
  const mailboxes = listMailboxesFor(db, actor, tenant.id);
  return (
    <>
      <p className="breadcrumbs">
        {isSuperAdmin(actor) && (
          <Link prefetch={false} href="/tenants">
            Tenants
          </Link>
        )}
      </p>
      <h1>{tenant.name}</h1>
      <p className="muted">
        Slug <code>{tenant.slug}</code>
      </p>
      {query.deleted && <p className="notice">Mailbox {query.deleted} deleted.</p>}
      <MailboxesSection db={db} actor={actor} tenant={tenant} total={mailboxes.length} query={query} />
      <AdminsSection db={db} actor={actor} tenant={tenant} />
      <OrganisationSection db={db} actor={actor} tenant={tenant} />
      <DefaultsSection tenant={tenant} />
      <EntraSetupSection db={db} tenant={tenant} />
      <MonitoringSection tenant={tenant} />
      <AlertsSection db={db} actor={actor} tenant={tenant} mailboxes={mailboxes} />
      <ApiKeysSection db={db} actor={actor} tenant={tenant} mailboxes={mailboxes} />
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
