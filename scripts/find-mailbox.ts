import { eq, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxes, tenants } from "@/db/schema";

/** The command-line arguments every mailbox command takes: the mailbox (id or name) and --tenant <slug>. */
export function mailboxArguments(args: string[]): { target: string | undefined; tenantSlug: string | undefined } {
  const index = args.indexOf("--tenant");
  const tenantSlug = index >= 0 ? args[index + 1] : undefined;
  const target = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--tenant");
  return { target, tenantSlug };
}

/** The one mailbox a command names, or the reason it names none (unknown, or a name in several tenants). */
export async function findMailbox(
  db: Db,
  target: string,
  tenantSlug: string | undefined,
): Promise<{ ok: true; mailbox: Mailbox; tenantSlug: string } | { ok: false; problem: string }> {
  const matches = (
    await db
      .select({ mailbox: mailboxes, tenantSlug: tenants.slug })
      .from(mailboxes)
      .innerJoin(tenants, eq(mailboxes.tenantId, tenants.id))
      .where(or(eq(mailboxes.id, Number(target) || -1), sql`lower(${mailboxes.name}) = lower(${target})`))
  ).filter((m) => !tenantSlug || m.tenantSlug === tenantSlug);
  if (matches.length === 0) {
    return { ok: false, problem: `no mailbox "${target}"${tenantSlug ? ` in tenant ${tenantSlug}` : ""}` };
  }
  if (matches.length > 1) {
    const where = matches.map((m) => m.tenantSlug).join(", ");
    return { ok: false, problem: `"${target}" names mailboxes in several tenants (${where}): add --tenant <slug>` };
  }
  return { ok: true, ...matches[0]! };
}
