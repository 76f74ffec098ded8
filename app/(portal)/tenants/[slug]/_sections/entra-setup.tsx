import type { Db } from "@/db/client";
import type { Tenant } from "@/db/schema";
import { CLOUD_OPTIONS } from "@/lib/mailbox/fields";
import { recentEntraSetup } from "@/lib/service/entra-setups/view";
import { EntraSetup } from "../mailboxes/lazy-parts";

/** The one-click Entra setup of the tenant's default app registration. */
export async function EntraSetupSection({ db, tenant }: { db: Db; tenant: Tenant }) {
  return (
    <EntraSetup
      api={`/api/tenants/${tenant.slug}/entra-setup`}
      target="tenant"
      domain={tenant.defaultAzureTenantId ?? ""}
      initial={await recentEntraSetup(db, { tenantId: tenant.id, mailboxId: null })}
      clouds={CLOUD_OPTIONS}
      cloud={tenant.defaultCloud ?? "global"}
    />
  );
}
