import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Db } from "@/db/client";
import { auditLog, tenants } from "@/db/schema";
import type { UserError } from "@/lib/errors";
import {
  createTenant,
  getTenantBySlugFor,
  listTenantsFor,
  listTenantsPage,
  renameTenant,
  saveTenantDefaults,
} from "@/lib/tenants/queries";
import { createTenantSchema, renameTenantSchema, tenantDefaultsSchema } from "@/lib/tenants/schema";
import { freshDb, seedWorld, type World } from "../support/db";

let db: Db;
let world: World;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

describe("tenant validation", () => {
  it.each([
    [
      { name: "", slug: "" },
      { name: ["Enter a name."], slug: ["Use at least 2 characters."] },
    ],
    [{ name: "x".repeat(101), slug: "ok-slug" }, { name: ["Use at most 100 characters."] }],
    [
      { name: "Acme", slug: "Has Spaces" },
      { slug: [expect.stringMatching(/lowercase letters, digits and single hyphens/)] },
    ],
    [{ name: "Acme", slug: "a--b" }, { slug: [expect.stringMatching(/single hyphens/)] }],
    [{ name: "Acme", slug: "x".repeat(41) }, { slug: ["Use at most 40 characters."] }],
  ])("reports every field error of %j at once", (input, expected) => {
    const result = createTenantSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(z.flattenError(result.error!).fieldErrors).toEqual(expected);
  });

  it("trims and lowercases", () => {
    expect(createTenantSchema.parse({ name: "  Acme ", slug: " ACME-eu " })).toEqual({ name: "Acme", slug: "acme-eu" });
    expect(renameTenantSchema.safeParse({ tenantId: "abc", name: "x" }).success).toBe(false);
  });
});

describe("tenant queries", () => {
  it("refuses a duplicate slug on the slug field, writing nothing", async () => {
    const before = [(await db.select().from(tenants)).length, (await db.select().from(auditLog)).length];
    await expect(createTenant(db, world.root, { name: "Again", slug: "alpha" })).rejects.toThrowError(
      expect.objectContaining({
        field: "slug",
        message: 'The slug "alpha" is already used by another tenant.',
      }) as UserError,
    );
    expect([(await db.select().from(tenants)).length, (await db.select().from(auditLog)).length]).toEqual(before);
  });

  it("records renames in the audit log with old and new names", async () => {
    await renameTenant(db, world.root, { tenantId: world.tenantB.id, name: "Beta Ltd" });
    const entry = (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1);
    expect(entry).toMatchObject({
      action: "tenant.rename",
      actorEmail: "root@example.com",
      tenantId: world.tenantB.id,
      changes: { name: { from: "Beta", to: "Beta Ltd" } },
    });
  });

  it("shows a tenant admin only their own tenant", async () => {
    expect((await listTenantsFor(db, world.adminA)).map((t) => t.slug)).toEqual(["alpha"]);
    expect((await listTenantsFor(db, world.root)).length).toBeGreaterThanOrEqual(2);
    await expect(getTenantBySlugFor(db, world.adminA, "beta")).rejects.toThrow("Not found");
    await expect(getTenantBySlugFor(db, world.adminA, "no-such")).rejects.toThrow("Not found");
  });
});

describe("a tenant's default app registration", () => {
  const CLIENT = "1b2c3d4e-0000-4000-8000-123456789abc";
  const DIRECTORY = "9f8e7d6c-0000-4000-8000-abcdefabcdef";
  const parse = (values: Record<string, string>) => tenantDefaultsSchema.safeParse(values);

  it("is set by the tenant's own admin, audited, and cleared again", async () => {
    const input = tenantDefaultsSchema.parse({
      tenantId: String(world.tenantA.id),
      azureClientId: CLIENT,
      azureTenantId: DIRECTORY,
      cloud: "usgov",
    });
    const tenant = await saveTenantDefaults(db, world.adminA, input);
    expect(tenant).toMatchObject({
      defaultAzureClientId: CLIENT,
      defaultAzureTenantId: DIRECTORY,
      defaultCloud: "usgov",
    });
    const entry = (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)!;
    expect(entry).toMatchObject({
      action: "tenant.defaults",
      actorEmail: world.adminA.email,
      changes: { defaultAzureClientId: { from: null, to: CLIENT } },
    });
    const cleared = await saveTenantDefaults(
      db,
      world.adminA,
      tenantDefaultsSchema.parse({ tenantId: String(world.tenantA.id), azureClientId: "", azureTenantId: "" }),
    );
    expect(cleared).toMatchObject({ defaultAzureClientId: null, defaultAzureTenantId: null, defaultCloud: null });
  });

  it("is out of reach for another tenant's admin", async () => {
    const input = tenantDefaultsSchema.parse({
      tenantId: String(world.tenantB.id),
      azureClientId: CLIENT,
      azureTenantId: DIRECTORY,
    });
    await expect(saveTenantDefaults(db, world.adminA, input)).rejects.toThrow("Not found");
    expect((await db.select().from(tenants)).find((t) => t.id === world.tenantB.id)?.defaultAzureClientId).toBeNull();
  });

  it("names the mistakes the mailbox form names", () => {
    const errors = (values: Record<string, string>) => {
      const parsed = parse({ tenantId: "1", ...values });
      return parsed.success ? {} : z.flattenError(parsed.error).fieldErrors;
    };
    expect(errors({ azureClientId: "invoices@contoso.com", azureTenantId: DIRECTORY }).azureClientId?.[0]).toMatch(
      /email address/,
    );
    expect(errors({ azureClientId: CLIENT }).azureTenantId?.[0]).toMatch(/TenantID too/);
    expect(errors({ azureClientId: CLIENT, azureTenantId: "common" }).azureTenantId?.[0]).toMatch(
      /not a specific tenant/,
    );
  });
});

describe("the Tenants list at scale", () => {
  it("pages by name, searches name and slug (with % and _ taken literally), and stays within the actor's tenant", async () => {
    for (let i = 0; i < 120; i++)
      await createTenant(db, world.root, { name: `Paged ${String(i).padStart(3, "0")}`, slug: `paged-${i}` });
    await createTenant(db, world.root, { name: "Percent 100% Co", slug: "percent-co" });
    const first = await listTenantsPage(db, world.root, { q: "paged" });
    expect(first).toMatchObject({ total: 120, page: 1, pages: 3 });
    expect(first.rows.map((t) => t.name).slice(0, 2)).toEqual(["Paged 000", "Paged 001"]);
    const last = await listTenantsPage(db, world.root, { q: "paged", page: 99 });
    expect(last.page).toBe(3);
    expect(last.rows).toHaveLength(20);
    expect((await listTenantsPage(db, world.root, { q: "paged-11" })).rows.map((t) => t.slug).sort()).toEqual(
      ["paged-11", ...Array.from({ length: 10 }, (_, i) => `paged-11${i}`)].sort(),
    );
    expect((await listTenantsPage(db, world.root, { q: "100%" })).rows.map((t) => t.slug)).toEqual(["percent-co"]);
    expect((await listTenantsPage(db, world.root, { q: "1_0" })).total).toBe(0);
    expect((await listTenantsPage(db, world.adminA, { q: "a" })).rows.map((t) => t.slug)).toEqual(["alpha"]);
  });
});
