import type { Metadata } from "next";
import { MigrationView } from "@/app/(portal)/migration/migration-view";
import { pageParam } from "@/lib/paging";
import { migrationOverview } from "@/lib/service/migration";
import { loadTenantTab, TenantFrame } from "../_sections/tenant-frame";

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ page?: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Sign-in migration · ${(await params).slug}` };
}

/** The tenant's mailboxes by sign-in method, and the moves off the password grant. */
export default async function TenantMigrationPage({ params, searchParams }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  const page = pageParam((await searchParams).page);
  const overview = await migrationOverview(db, actor, tenant.id, { page });
  return (
    <TenantFrame actor={actor} tenant={tenant} current="/migration">
      <MigrationView overview={overview} showTenant={false} path={`/tenants/${tenant.slug}/migration`} />
    </TenantFrame>
  );
}
