import { ActionForm, SelectField } from "@/app/_components/action-form";
import type { Tenant } from "@/db/schema";
import { FREQUENCY_OPTIONS } from "@/lib/mailbox/fields";
import { saveTenantMonitoringAction } from "../../actions";

export function MonitoringSection({ tenant }: { tenant: Tenant }) {
  return (
    <section aria-labelledby="monitoring">
      <h2 id="monitoring">Monitoring</h2>
      <p className="hint">
        Navigator Mail tests the tenant&apos;s mailboxes on its own: a light test signs in to SMTP and IMAP, a full test
        sends and receives a message. A mailbox can set its own schedule. After Microsoft refuses a password, that
        mailbox is not tried again until its settings change.
      </p>
      <ActionForm action={saveTenantMonitoringAction} submitLabel="Save monitoring">
        <input type="hidden" name="tenantId" value={tenant.id} />
        <SelectField
          name="monitorLight"
          label="Light test"
          options={FREQUENCY_OPTIONS}
          defaultValue={tenant.monitorLight}
        />
        <SelectField
          name="monitorFull"
          label="Full test"
          options={FREQUENCY_OPTIONS}
          defaultValue={tenant.monitorFull}
        />
      </ActionForm>
    </section>
  );
}
