import { ActionForm, Field, SelectField } from "@/app/_components/action-form";
import type { Tenant } from "@/db/schema";
import { CLOUD_OPTIONS, MAILBOX_FIELDS } from "@/lib/mailbox/fields";
import { saveTenantDefaultsAction } from "../../actions";

/** The Azure fields new mailboxes of the tenant start with. */
export function DefaultsSection({ tenant }: { tenant: Tenant }) {
  return (
    <section aria-labelledby="defaults">
      <h2 id="defaults">Default app registration</h2>
      <p className="hint">New mailboxes of this tenant start with these Azure fields; each mailbox can change them.</p>
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
  );
}
