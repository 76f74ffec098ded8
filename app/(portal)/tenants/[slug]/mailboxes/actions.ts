"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { authorizedAction } from "@/lib/action";
import { UserError } from "@/lib/errors";
import { MAIL_TRANSPORT_LABELS } from "@/lib/mailbox/fields";
import { getTenantSlug } from "@/lib/mailbox/queries";
import {
  createMailbox,
  deleteMailbox,
  generateAppCertificate,
  switchTransport,
  updateMailbox,
} from "@/lib/mailbox/save";
import {
  deleteMailboxSchema,
  generateCertificateSchema,
  MAILBOX_SECRET_FIELDS,
  saveMailboxSchema,
  switchTransportSchema,
} from "@/lib/mailbox/schema";

export const saveMailboxAction = authorizedAction({
  schema: saveMailboxSchema,
  secretFields: MAILBOX_SECRET_FIELDS,
  async run(actor, input) {
    const db = getDb();
    if (input.mailboxId === undefined) {
      const mailbox = await createMailbox(db, actor, input);
      redirect(`/tenants/${await getTenantSlug(db, mailbox.tenantId)}/mailboxes/${mailbox.id}?created=1`);
    }
    if (input.version === undefined) throw new UserError("The form is missing its version; reload the page.");
    const mailbox = await updateMailbox(db, actor, { ...input, mailboxId: input.mailboxId, version: input.version });
    revalidatePath(`/tenants/${await getTenantSlug(db, mailbox.tenantId)}`, "layout");
    return `Saved ${mailbox.name}.`;
  },
});

export const deleteMailboxAction = authorizedAction({
  schema: deleteMailboxSchema,
  async run(actor, input) {
    const db = getDb();
    const mailbox = await deleteMailbox(db, actor, input.tenantId, input.mailboxId);
    redirect(`/tenants/${await getTenantSlug(db, mailbox.tenantId)}?deleted=${encodeURIComponent(mailbox.name)}`);
  },
});

export const generateCertificateAction = authorizedAction({
  schema: generateCertificateSchema,
  async run(actor, input) {
    const db = getDb();
    const mailbox = await generateAppCertificate(db, actor, input);
    revalidatePath(`/tenants/${await getTenantSlug(db, mailbox.tenantId)}`, "layout");
    return "Generated a certificate; this mailbox now signs in app-only. Upload the certificate to the app registration.";
  },
});

export const switchTransportAction = authorizedAction({
  schema: switchTransportSchema,
  async run(actor, input) {
    const db = getDb();
    const { transport, ...at } = input;
    const mailbox = await switchTransport(db, actor, at, transport);
    revalidatePath(`/tenants/${await getTenantSlug(db, mailbox.tenantId)}`, "layout");
    return `${mailbox.name} now uses ${MAIL_TRANSPORT_LABELS[mailbox.transport]}.`;
  },
});
