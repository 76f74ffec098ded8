import Link from "next/link";
import { TabBar } from "@/app/_components/tab-bar";
import type { Db } from "@/db/client";
import { getDb } from "@/db/client";
import type { Tenant } from "@/db/schema";
import { isSuperAdmin, type UserActor } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { getTenantBySlugFor } from "@/lib/tenants/queries";

/** The tenant page's tabs, each a page of its own address; Mailboxes is the tenant's address itself. */
const TENANT_TABS = [
  { path: "", label: "Mailboxes" },
  { path: "/settings", label: "Settings" },
  { path: "/alerts", label: "Alerts" },
  { path: "/api-keys", label: "API keys" },
  { path: "/migration", label: "Sign-in migration" },
  { path: "/admins", label: "Admins" },
] as const;
type TenantTab = (typeof TENANT_TABS)[number]["path"];

/** The address of one tab of a tenant, for links from elsewhere (alerts, the status overview). */
export const tenantTabHref = (slug: string, tab: TenantTab) => `/tenants/${slug}${tab}`;

/** Who asks and the tenant of the address (404 for another tenant's or an unknown one), for every tab. */
export async function loadTenantTab(params: Promise<{ slug: string }>): Promise<{
  actor: UserActor;
  db: Db;
  tenant: Tenant;
}> {
  const actor = await requireActor();
  const { slug } = await params;
  const db = getDb();
  const tenant = await loadOr404(async () => getTenantBySlugFor(db, actor, slug));
  return { actor, db, tenant };
}

/** The tenant's name and the tab bar: plain links, so it works without JavaScript. */
export function TenantFrame({
  actor,
  tenant,
  current,
  children,
}: {
  actor: UserActor;
  tenant: Tenant;
  current: TenantTab;
  children: React.ReactNode;
}) {
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
      <TabBar label="Tenant" base={tenantTabHref(tenant.slug, "")} tabs={TENANT_TABS} current={current} />
      {children}
    </>
  );
}
