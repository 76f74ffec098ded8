import type { Metadata } from "next";
import { MigrationView } from "@/app/(portal)/migration/migration-view";
import { migrationOverview } from "@/lib/service/migration";
import { loadTenantTab, TenantFrame } from "../_sections/tenant-frame";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Sign-in migration · ${(await params).slug}` };
}

/** The tenant's mailboxes by sign-in method, and the moves off the password grant. */
export default async function TenantMigrationPage({ params }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  const overview = await migrationOverview(db, actor, tenant.id);
  return (
    <TenantFrame actor={actor} tenant={tenant} current="/migration">
      <MigrationView overview={overview} showTenant={false} />
    </TenantFrame>
  );
}
