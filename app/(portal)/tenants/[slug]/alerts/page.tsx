import type { Metadata } from "next";
import { listMailboxesFor } from "@/lib/mailbox/queries";
import { AlertsSection } from "../_sections/alerts";
import { loadTenantTab, TenantFrame } from "../_sections/tenant-frame";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Alerts · ${(await params).slug}` };
}

/** The tenant's alert channels and its latest alerts. */
export default async function TenantAlertsPage({ params }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  const mailboxes = await listMailboxesFor(db, actor, tenant.id);
  return (
    <TenantFrame actor={actor} tenant={tenant} current="/alerts">
      <AlertsSection db={db} actor={actor} tenant={tenant} mailboxes={mailboxes} />
    </TenantFrame>
  );
}
