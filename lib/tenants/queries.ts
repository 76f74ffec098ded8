import "server-only";
import { and, asc, count, eq, type SQL, sql } from "drizzle-orm";
import { type Db, type Queryable, transaction } from "@/db/client";
import { type Tenant, tenants } from "@/db/schema";
import { diffChanges, recordAudit } from "@/lib/audit/log";
import { assertSuperAdmin, assertTenantAccess, isSuperAdmin, type UserActor } from "@/lib/auth/actor";
import { NotFoundError, UserError } from "@/lib/errors";
import { containsPattern, PAGE_SIZE, pageWindow } from "@/lib/paging";
import { directoryFieldError } from "./directories";
import type { CreateTenantInput, RenameTenantInput, TenantDefaultsInput, TenantMonitoringInput } from "./schema";

export async function listTenantsFor(db: Db, actor: UserActor): Promise<Tenant[]> {
  const query = db.select().from(tenants).orderBy(asc(tenants.name));
  return isSuperAdmin(actor) ? await query : await query.where(eq(tenants.id, actor.tenantId ?? -1));
}

/** The tenants the actor may see, by name, a page at a time; `q` searches name and slug. */
export async function listTenantsPage(
  db: Db,
  actor: UserActor,
  query: { q?: string; page?: number },
): Promise<{ rows: Tenant[]; total: number; page: number; pages: number }> {
  const where: SQL[] = [];
  if (!isSuperAdmin(actor)) where.push(eq(tenants.id, actor.tenantId ?? -1));
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    where.push(sql`(lower(${tenants.name}) LIKE ${like} ESCAPE '\\' OR ${tenants.slug} LIKE ${like} ESCAPE '\\')`);
  }
  const condition = where.length > 0 ? and(...where) : undefined;
  const total = (await db.select({ n: count() }).from(tenants).where(condition))[0]?.n ?? 0;
  const window = pageWindow(total, query.page);
  const rows = await db
    .select()
    .from(tenants)
    .where(condition)
    .orderBy(asc(tenants.name), asc(tenants.id))
    .limit(PAGE_SIZE)
    .offset(window.offset);
  return { rows, total, page: window.page, pages: window.pages };
}

/** How many tenants there are (the Users page offers a list only when it is short). */
export async function countTenants(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(tenants))[0]?.n ?? 0;
}

/** A tenant by slug for a super-admin's form, or a field error. */
export async function tenantIdBySlug(db: Db, slug: string): Promise<number> {
  const row = (await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug.trim().toLowerCase())))[0];
  if (!row) throw new UserError(`No tenant has the slug "${slug}".`, "tenantSlug");
  return row.id;
}

export async function getTenantBySlugFor(db: Db, actor: UserActor, slug: string): Promise<Tenant> {
  const tenant = (await db.select().from(tenants).where(eq(tenants.slug, slug)))[0];
  if (!tenant) throw new NotFoundError();
  assertTenantAccess(actor, tenant.id);
  return tenant;
}

export async function getTenantFor(db: Queryable, actor: UserActor, tenantId: number): Promise<Tenant> {
  assertTenantAccess(actor, tenantId);
  const tenant = (await db.select().from(tenants).where(eq(tenants.id, tenantId)))[0];
  if (!tenant) throw new NotFoundError();
  return tenant;
}

export async function createTenant(db: Db, actor: UserActor, input: CreateTenantInput): Promise<Tenant> {
  assertSuperAdmin(actor);
  return transaction(db, async (tx) => {
    if ((await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, input.slug)))[0]) {
      throw new UserError(`The slug "${input.slug}" is already used by another tenant.`, "slug");
    }
    const tenant = (await tx.insert(tenants).values(input).returning())[0]!;
    await recordAudit(tx, actor, {
      tenantId: tenant.id,
      action: "tenant.create",
      targetType: "tenant",
      targetId: tenant.id,
      targetLabel: tenant.slug,
      changes: { name: { to: tenant.name }, slug: { to: tenant.slug } },
    });
    return tenant;
  });
}

export async function renameTenant(db: Db, actor: UserActor, input: RenameTenantInput): Promise<Tenant> {
  assertSuperAdmin(actor);
  return transaction(db, async (tx) => {
    const before = await getTenantFor(tx, actor, input.tenantId);
    if (before.name === input.name) return before;
    const tenant = (
      await tx
        .update(tenants)
        .set({ name: input.name, updatedAt: new Date() })
        .where(eq(tenants.id, input.tenantId))
        .returning()
    )[0]!;
    await recordAudit(tx, actor, {
      tenantId: tenant.id,
      action: "tenant.rename",
      targetType: "tenant",
      targetId: tenant.id,
      targetLabel: tenant.slug,
      changes: { name: { from: before.name, to: tenant.name } },
    });
    return tenant;
  });
}

/** The tenant's default app registration; its own admins may set it. */
export async function saveTenantDefaults(db: Db, actor: UserActor, input: TenantDefaultsInput): Promise<Tenant> {
  const outside = await directoryFieldError(db, input.tenantId, {
    signInMethod: "password",
    azureTenantId: input.azureTenantId ?? null,
    login: null,
  });
  if (outside) throw new UserError(outside.message, outside.field);
  return saveTenantSettings(db, actor, input.tenantId, "tenant.defaults", {
    defaultAzureClientId: input.azureClientId ?? null,
    defaultAzureTenantId: input.azureTenantId ?? null,
    defaultCloud: input.azureClientId ? input.cloud : null,
  });
}

/** How often the tenant's mailboxes are tested; its own admins may set it. */
export async function saveTenantMonitoring(db: Db, actor: UserActor, input: TenantMonitoringInput): Promise<Tenant> {
  return saveTenantSettings(db, actor, input.tenantId, "tenant.monitoring", {
    monitorLight: input.monitorLight,
    monitorFull: input.monitorFull,
  });
}

/** Writes some of a tenant's settings and audits those that changed, under `action`. */
async function saveTenantSettings(
  db: Db,
  actor: UserActor,
  tenantId: number,
  action: string,
  values: Partial<
    Pick<Tenant, "defaultAzureClientId" | "defaultAzureTenantId" | "defaultCloud" | "monitorLight" | "monitorFull">
  >,
): Promise<Tenant> {
  return transaction(db, async (tx) => {
    const before = await getTenantFor(tx, actor, tenantId);
    const tenant = (
      await tx
        .update(tenants)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(tenants.id, before.id))
        .returning()
    )[0]!;
    const view = (t: Tenant) => Object.fromEntries(Object.keys(values).map((key) => [key, t[key as keyof Tenant]]));
    const changes = diffChanges(view(before), view(tenant));
    if (Object.keys(changes).length > 0) {
      await recordAudit(tx, actor, {
        tenantId: tenant.id,
        action,
        targetType: "tenant",
        targetId: tenant.id,
        targetLabel: tenant.slug,
        changes,
      });
    }
    return tenant;
  });
}
