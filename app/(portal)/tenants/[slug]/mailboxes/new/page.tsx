import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { getTenantBySlugFor } from "@/lib/tenants/queries";
import { saveMailboxAction } from "../actions";
import { MailboxForm } from "../mailbox-form";
import { MAILBOX_FORM_TEXT } from "../mailbox-form-text";

export const metadata: Metadata = { title: "New mailbox" };

export default async function NewMailboxPage({ params }: { params: Promise<{ slug: string }> }) {
  const actor = await requireActor();
  const { slug } = await params;
  const tenant = await loadOr404(async () => getTenantBySlugFor(getDb(), actor, slug));
  return (
    <>
      <p className="breadcrumbs">
        <Link prefetch={false} href={`/tenants/${tenant.slug}`}>
          {tenant.name}
        </Link>
      </p>
      <h1>New mailbox</h1>
      <MailboxForm
        text={MAILBOX_FORM_TEXT}
        action={saveMailboxAction}
        tenantId={tenant.id}
        tenantMonitoring={tenant}
        defaults={{
          azureClientId: tenant.defaultAzureClientId,
          azureTenantId: tenant.defaultAzureTenantId,
          cloud: tenant.defaultCloud,
        }}
      />
    </>
  );
}
