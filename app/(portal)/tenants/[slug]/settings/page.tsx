import type { Metadata } from "next";
import { ActionForm, Field } from "@/app/_components/action-form";
import { isSuperAdmin } from "@/lib/auth/actor";
import { renameTenantAction } from "../../actions";
import { DefaultsSection } from "../_sections/defaults";
import { EntraSetupSection } from "../_sections/entra-setup";
import { MonitoringSection } from "../_sections/monitoring";
import { OrganisationSection } from "../_sections/organisation";
import { loadTenantTab, TenantFrame } from "../_sections/tenant-frame";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Settings · ${(await params).slug}` };
}

/** The tenant's settings: its Microsoft organisation, default app registration, Entra setup, monitoring, name. */
export default async function TenantSettingsPage({ params }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  return (
    <TenantFrame actor={actor} tenant={tenant} current="/settings">
      <OrganisationSection db={db} actor={actor} tenant={tenant} />
      <DefaultsSection tenant={tenant} />
      <EntraSetupSection db={db} tenant={tenant} />
      <MonitoringSection tenant={tenant} />
      {isSuperAdmin(actor) && (
        <section aria-labelledby="rename">
          <h2 id="rename">Rename</h2>
          <ActionForm action={renameTenantAction} submitLabel="Rename">
            <input type="hidden" name="tenantId" value={tenant.id} />
            <Field name="name" label="Name" defaultValue={tenant.name} maxLength={100} />
          </ActionForm>
        </section>
      )}
    </TenantFrame>
  );
}
