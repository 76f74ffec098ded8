import "server-only";
import { asc, eq, sql } from "drizzle-orm";
import { type Db, preparedOnce, type Queryable, transaction } from "@/db/client";
import { type TenantDirectory, tenantDirectories, tenants } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { type Actor, actorLabel, assertSuperAdmin, type UserActor } from "@/lib/auth/actor";
import type { SignInMethod } from "@/lib/engine/settings";
import { isDomainName } from "@/lib/entra-ids";
import { NotFoundError } from "@/lib/errors";

/**
 * A portal tenant is bound to its Microsoft organisation: the Entra tenant IDs and verified domains
 * in `tenant_directories`. With none listed, the first successful sign-in fills the list (trust on
 * first use); from then on a mailbox pointing elsewhere is refused at save, and a token issued by
 * another organisation is refused. Only super-admins change the list.
 */
export type Directories = { tenantIds: string[]; domains: string[] };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function directoryEntries(db: Queryable, tenantId: number): Promise<TenantDirectory[]> {
  // Read on every test and every token the API hands out.
  return await preparedOnce(db, "tenantDirectories", (q) =>
    q
      .select()
      .from(tenantDirectories)
      .where(eq(tenantDirectories.tenantId, sql.placeholder("tenantId")))
      .orderBy(asc(tenantDirectories.kind), asc(tenantDirectories.value))
      .prepare(),
  ).execute({ tenantId });
}

export async function allowedDirectories(db: Queryable, tenantId: number): Promise<Directories> {
  const entries = await directoryEntries(db, tenantId);
  return {
    tenantIds: entries.filter((e) => e.kind === "tenant-id").map((e) => e.value),
    domains: entries.filter((e) => e.kind === "domain").map((e) => e.value),
  };
}

/** The list as the admin reads it in a message: "tenant ID …, domain …". */
function describeDirectories(list: Directories): string {
  return [...list.tenantIds.map((id) => `tenant ID ${id}`), ...list.domains].join(", ");
}

/** The domain of a Login (a UPN or address); null without one. */
export const loginDomain = (login: string | null | undefined) =>
  login?.includes("@") ? login.slice(login.lastIndexOf("@") + 1).toLowerCase() : null;

/**
 * What of a mailbox's settings lies outside the tenant's organisations, as a field error; null when
 * nothing does, the list is still empty, or the mailbox signs in with a plain password (no Entra).
 */
export async function directoryFieldError(
  db: Queryable,
  tenantId: number,
  settings: {
    signInMethod: SignInMethod;
    azureTenantId: string | null;
    login: string | null;
    mailboxAddress?: string | null;
    sendAs?: string | null;
  },
): Promise<{ field: "azureTenantId" | "login" | "mailboxAddress" | "sendAs"; message: string } | null> {
  const list = await allowedDirectories(db, tenantId);
  // The Mailbox and Send as lie in the Login's organisation: its verified domains once it is bound,
  // the Login's own domain before.
  const domains = list.domains.length > 0 ? list.domains : [loginDomain(settings.login)];
  for (const field of ["mailboxAddress", "sendAs"] as const) {
    const domain = loginDomain(settings[field]);
    if (domain && !domains.includes(domain)) {
      const where =
        list.domains.length > 0
          ? `the organisation's verified domains: ${list.domains.join(", ")}`
          : `the Login's domain, ${domains[0]}`;
      return { field, message: `${settings[field]} is outside the Login's organisation. Use an address in ${where}.` };
    }
  }
  if (settings.signInMethod === "basic") return null;
  if (list.tenantIds.length + list.domains.length === 0) return null;
  const bound = `This tenant is bound to the Microsoft organisation ${describeDirectories(list)}; a super-admin can add another on the tenant's Settings tab.`;
  const directory = settings.azureTenantId?.trim().toLowerCase() ?? "";
  const listed = GUID.test(directory) ? list.tenantIds.includes(directory) : list.domains.includes(directory);
  if (directory && !listed)
    return { field: "azureTenantId", message: `${settings.azureTenantId} is not listed. ${bound}` };
  const domain = loginDomain(settings.login);
  if (domain && list.domains.length > 0 && !list.domains.includes(domain))
    return { field: "login", message: `The domain ${domain} is not listed. ${bound}` };
  return null;
}

/**
 * Whether a token issued by the Entra tenant `tid` may be used for this portal tenant. With an empty
 * list, this first successful sign-in fills it: the token's tenant ID and the domains it proved (the
 * Login's, and TenantID's when it is a domain), audited. In one write transaction, so two first
 * sign-ins at once cannot bind the tenant to two organisations.
 */
export async function admitDirectory(
  db: Queryable,
  actor: Actor,
  tenantId: number,
  seen: { tid: string | undefined; domains: (string | null | undefined)[] },
): Promise<boolean> {
  const tid = seen.tid?.toLowerCase();
  // A token that is not a JWT names no tenant; Exchange judges it.
  if (!tid) return true;
  // Asked on every token the API hands out: a bound tenant is answered by one read.
  const bound = await allowedDirectories(db, tenantId);
  if (bound.tenantIds.length + bound.domains.length > 0) return bound.tenantIds.includes(tid);
  return transaction(db, async (tx) => {
    const list = await allowedDirectories(tx, tenantId);
    if (list.tenantIds.length + list.domains.length > 0) return list.tenantIds.includes(tid);
    const domains = [...new Set(seen.domains.map((d) => d?.trim().toLowerCase() ?? "").filter((d) => isDomainName(d)))];
    const entries = [
      { kind: "tenant-id" as const, value: tid },
      ...domains.map((value) => ({ kind: "domain" as const, value })),
    ];
    await insertEntries(tx, actor, tenantId, entries, "first-sign-in");
    await recordAudit(tx, actor, {
      tenantId,
      action: "tenant.directories",
      targetType: "tenant",
      targetId: tenantId,
      targetLabel: "first sign-in",
      changes: { directories: { from: [], to: entries.map((e) => e.value) } },
    });
    return true;
  });
}

/** A super-admin replaces the tenant's list (empty: the next sign-in fills it again); audited. */
export async function setDirectories(
  db: Db,
  actor: UserActor,
  tenantId: number,
  entries: { kind: TenantDirectory["kind"]; value: string }[],
): Promise<TenantDirectory[]> {
  assertSuperAdmin(actor);
  return transaction(db, async (tx) => {
    if (!(await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)))[0])
      throw new NotFoundError();
    const before = (await directoryEntries(tx, tenantId)).map((e) => e.value);
    await tx.delete(tenantDirectories).where(eq(tenantDirectories.tenantId, tenantId));
    await insertEntries(tx, actor, tenantId, entries, "super-admin");
    const after = await directoryEntries(tx, tenantId);
    const to = after.map((e) => e.value);
    if (JSON.stringify(before) !== JSON.stringify(to)) {
      await recordAudit(tx, actor, {
        tenantId,
        action: "tenant.directories",
        targetType: "tenant",
        targetId: tenantId,
        targetLabel: "super-admin",
        changes: { directories: { from: before, to } },
      });
    }
    return after;
  });
}

async function insertEntries(
  tx: Queryable,
  actor: Actor,
  tenantId: number,
  entries: { kind: TenantDirectory["kind"]; value: string }[],
  source: TenantDirectory["source"],
): Promise<void> {
  const createdAt = new Date();
  for (const entry of entries) {
    await tx
      .insert(tenantDirectories)
      .values({
        tenantId,
        kind: entry.kind,
        value: entry.value.toLowerCase(),
        source,
        addedBy: actorLabel(actor),
        createdAt,
      })
      .onConflictDoNothing();
  }
}
