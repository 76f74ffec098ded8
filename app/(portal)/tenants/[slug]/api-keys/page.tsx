import type { Metadata } from "next";
import { listMailboxesFor } from "@/lib/mailbox/queries";
import { ApiKeysSection } from "../_sections/api-keys";
import { loadTenantTab, TenantFrame } from "../_sections/tenant-frame";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `API keys · ${(await params).slug}` };
}

/** The tenant's API keys and the form that creates one. */
export default async function TenantApiKeysPage({ params }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  const mailboxes = await listMailboxesFor(db, actor, tenant.id);
  return (
    <TenantFrame actor={actor} tenant={tenant} current="/api-keys">
      <ApiKeysSection db={db} actor={actor} tenant={tenant} mailboxes={mailboxes} />
    </TenantFrame>
  );
}
