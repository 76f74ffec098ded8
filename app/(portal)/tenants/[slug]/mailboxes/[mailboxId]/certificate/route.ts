import { X509Certificate } from "node:crypto";
import { getDb } from "@/db/client";
import { currentActor } from "@/lib/auth/session";
import { NotFoundError } from "@/lib/errors";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { getTenantBySlugFor } from "@/lib/tenants/queries";

export const dynamic = "force-dynamic";

/** The mailbox's app-only certificate as a .cer file (DER) for the app registration's upload dialog. */
export async function GET(_request: Request, context: { params: Promise<{ slug: string; mailboxId: string }> }) {
  const actor = await currentActor();
  if (!actor) return new Response("Sign in first.", { status: 401 });
  if (actor.mustChangePassword) return new Response("Change your password first.", { status: 403 });
  const { slug, mailboxId } = await context.params;
  const id = Number(mailboxId);
  try {
    const db = getDb();
    const tenant = await getTenantBySlugFor(db, actor, slug);
    const mailbox = Number.isSafeInteger(id) && id > 0 ? await getMailboxFor(db, actor, tenant.id, id) : null;
    if (!mailbox?.certificatePem) throw new NotFoundError();
    const der = new X509Certificate(mailbox.certificatePem).raw;
    return new Response(new Uint8Array(der), {
      headers: {
        "content-type": "application/pkix-cert",
        "content-disposition": `attachment; filename="navigator-mail-${mailbox.id}.cer"`,
        "cache-control": "no-store",
      },
    });
  } catch (error) {
    if (error instanceof NotFoundError) return new Response("Not found", { status: 404 });
    throw error;
  }
}
