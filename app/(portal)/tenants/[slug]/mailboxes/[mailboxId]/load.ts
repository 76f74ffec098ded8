import "server-only";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { getTenantBySlugFor } from "@/lib/tenants/queries";

/** The signed-in actor, the tenant and the mailbox of a mailbox page; 404 for anything out of reach. */
export async function loadMailboxPage(params: Promise<{ slug: string; mailboxId: string }>) {
  const actor = await requireActor();
  const { slug, mailboxId } = await params;
  const id = Number(mailboxId);
  if (!Number.isSafeInteger(id) || id <= 0) notFound();
  const db = getDb();
  const tenant = await loadOr404(async () => getTenantBySlugFor(db, actor, slug));
  const mailbox = await loadOr404(async () => getMailboxFor(db, actor, tenant.id, id));
  return { actor, db, tenant, mailbox, base: `/tenants/${tenant.slug}/mailboxes/${mailbox.id}` };
}
