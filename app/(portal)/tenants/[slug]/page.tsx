import type { Metadata } from "next";
import { listMailboxesFor } from "@/lib/mailbox/queries";
import { MailboxesSection } from "./_sections/mailboxes";
import { loadTenantTab, TenantFrame } from "./_sections/tenant-frame";

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ deleted?: string; q?: string; page?: string }>;
};

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await params).slug };
}

/** A tenant's first tab: its mailboxes. */
export default async function TenantPage({ params, searchParams }: Props) {
  const { actor, db, tenant } = await loadTenantTab(params);
  const query = await searchParams;
  return (
    <TenantFrame actor={actor} tenant={tenant} current="">
      {query.deleted && <p className="notice">Mailbox {query.deleted} deleted.</p>}
      <MailboxesSection
        db={db}
        actor={actor}
        tenant={tenant}
        total={(await listMailboxesFor(db, actor, tenant.id)).length}
        query={query}
      />
    </TenantFrame>
  );
}
