import "server-only";
import { and, asc, count, eq, type SQL, sql } from "drizzle-orm";
import type { Db, Queryable } from "@/db/client";
import { type Tenant, tenants } from "@/db/schema";
import { diffChanges, recordAudit } from "@/lib/audit/log";
import { assertSuperAdmin, assertTenantAccess, isSuperAdmin, type UserActor } from "@/lib/auth/actor";
import { NotFoundError, UserError } from "@/lib/errors";
import { containsPattern, PAGE_SIZE, pageWindow } from "@/lib/paging";
import { directoryFieldError } from "./directories";
import type { CreateTenantInput, RenameTenantInput, TenantDefaultsInput, TenantMonitoringInput } from "./schema";

export function listTenantsFor(db: Db, actor: UserActor): Tenant[] {
  const query = db.select().from(tenants).orderBy(asc(tenants.name));
  return isSuperAdmin(actor) ? query.all() : query.where(eq(tenants.id, actor.tenantId ?? -1)).all();
}

/** The tenants the actor may see, by name, a page at a time; `q` searches name and slug. */
export function listTenantsPage(
  db: Db,
  actor: UserActor,
  query: { q?: string; page?: number },
): { rows: Tenant[]; total: number; page: number; pages: number } {
  const where: SQL[] = [];
  if (!isSuperAdmin(actor)) where.push(eq(tenants.id, actor.tenantId ?? -1));
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    where.push(sql`(lower(${tenants.name}) LIKE ${like} ESCAPE '\\' OR ${tenants.slug} LIKE ${like} ESCAPE '\\')`);
  }
  const condition = where.length > 0 ? and(...where) : undefined;
  const total = db.select({ n: count() }).from(tenants).where(condition).get()?.n ?? 0;
  const window = pageWindow(total, query.page);
  const rows = db
    .select()
    .from(tenants)
    .where(condition)
    .orderBy(asc(tenants.name), asc(tenants.id))
    .limit(PAGE_SIZE)
    .offset(window.offset)
    .all();
  return { rows, total, page: window.page, pages: window.pages };
}

/** How many tenants there are (the Users page offers a list only when it is short). */
export function countTenants(db: Db): number {
  return db.select({ n: count() }).from(tenants).get()?.n ?? 0;
}

/** A tenant by slug for a super-admin's form, or a field error. */
export function tenantIdBySlug(db: Db, slug: string): number {
  const row = db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug.trim().toLowerCase())).get();
  if (!row) throw new UserError(`No tenant has the slug "${slug}".`, "tenantSlug");
  return row.id;
}

export function getTenantBySlugFor(db: Db, actor: UserActor, slug: string): Tenant {
  const tenant = db.select().from(tenants).where(eq(tenants.slug, slug)).get();
  if (!tenant) throw new NotFoundError();
  assertTenantAccess(actor, tenant.id);
  return tenant;
}

export function getTenantFor(db: Queryable, actor: UserActor, tenantId: number): Tenant {
  assertTenantAccess(actor, tenantId);
  const tenant = db.select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!tenant) throw new NotFoundError();
  return tenant;
}

export function createTenant(db: Db, actor: UserActor, input: CreateTenantInput): Tenant {
  assertSuperAdmin(actor);
  return db.transaction((tx) => {
    if (tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, input.slug)).get()) {
      throw new UserError(`The slug "${input.slug}" is already used by another tenant.`, "slug");
    }
    const tenant = tx.insert(tenants).values(input).returning().get();
    recordAudit(tx, actor, {
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

export function renameTenant(db: Db, actor: UserActor, input: RenameTenantInput): Tenant {
  assertSuperAdmin(actor);
  return db.transaction((tx) => {
    const before = getTenantFor(tx, actor, input.tenantId);
    if (before.name === input.name) return before;
    const tenant = tx
      .update(tenants)
      .set({ name: input.name, updatedAt: new Date() })
      .where(eq(tenants.id, input.tenantId))
      .returning()
      .get();
    recordAudit(tx, actor, {
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
export function saveTenantDefaults(db: Db, actor: UserActor, input: TenantDefaultsInput): Tenant {
  const outside = directoryFieldError(db, input.tenantId, {
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
export function saveTenantMonitoring(db: Db, actor: UserActor, input: TenantMonitoringInput): Tenant {
  return saveTenantSettings(db, actor, input.tenantId, "tenant.monitoring", {
    monitorLight: input.monitorLight,
    monitorFull: input.monitorFull,
  });
}

/** Writes some of a tenant's settings and audits those that changed, under `action`. */
function saveTenantSettings(
  db: Db,
  actor: UserActor,
  tenantId: number,
  action: string,
  values: Partial<
    Pick<Tenant, "defaultAzureClientId" | "defaultAzureTenantId" | "defaultCloud" | "monitorLight" | "monitorFull">
  >,
): Tenant {
  return db.transaction((tx) => {
    const before = getTenantFor(tx, actor, tenantId);
    const tenant = tx
      .update(tenants)
      .set({ ...values, updatedAt: new Date() })
      .where(eq(tenants.id, before.id))
      .returning()
      .get();
    const view = (t: Tenant) => Object.fromEntries(Object.keys(values).map((key) => [key, t[key as keyof Tenant]]));
    const changes = diffChanges(view(before), view(tenant));
    if (Object.keys(changes).length > 0) {
      recordAudit(tx, actor, {
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
