import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { getMailboxViewFor } from "@/lib/mailbox/queries";
import { getTenantBySlugFor } from "@/lib/tenants/queries";
import { deleteMailboxAction, saveMailboxAction } from "../actions";
import { DeleteMailbox } from "../delete-mailbox";
import { MailboxForm } from "../mailbox-form";

type Props = { params: Promise<{ slug: string; mailboxId: string }>; searchParams: Promise<{ created?: string }> };

export const metadata: Metadata = { title: "Mailbox" };

export default async function MailboxPage({ params, searchParams }: Props) {
  const actor = await requireActor();
  const { slug, mailboxId } = await params;
  const id = Number(mailboxId);
  if (!Number.isSafeInteger(id) || id <= 0) notFound();
  const db = getDb();
  const tenant = loadOr404(() => getTenantBySlugFor(db, actor, slug));
  const mailbox = loadOr404(() => getMailboxViewFor(db, actor, tenant.id, id));
  const { created } = await searchParams;
  return (
    <>
      <p className="breadcrumbs">
        <Link href={`/tenants/${tenant.slug}`}>{tenant.name}</Link>
      </p>
      <h1>{mailbox.name}</h1>
      {created && <p className="notice">Mailbox created.</p>}
      <p className="muted">
        Version {mailbox.version}, last changed by {mailbox.updatedBy} on {mailbox.updatedAt.toISOString().slice(0, 16).replace("T", " ")} UTC.
      </p>
      <MailboxForm action={saveMailboxAction} tenantId={tenant.id} mailbox={mailbox} />
      <section aria-labelledby="danger">
        <h2 id="danger">Delete</h2>
        <DeleteMailbox action={deleteMailboxAction} tenantId={tenant.id} mailboxId={mailbox.id} name={mailbox.name} />
      </section>
    </>
  );
}
