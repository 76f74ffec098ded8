import type { Metadata } from "next";
import { AdminsSection } from "../_sections/admins";
import { loadTenantTab, TenantFrame } from "../_sections/tenant-frame";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Admins · ${(await params).slug}` };
}

/** The tenant's admins. */
export default async function TenantAdminsPage({ params }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  return (
    <TenantFrame actor={actor} tenant={tenant} current="/admins">
      <AdminsSection db={db} actor={actor} tenant={tenant} />
    </TenantFrame>
  );
}
