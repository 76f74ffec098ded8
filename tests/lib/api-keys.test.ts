import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { apiKeys, auditLog } from "@/db/schema";
import {
  authenticateApiKey,
  createApiKey,
  listApiKeys,
  MAX_ACTIVE_KEYS_PER_TENANT,
  revokeApiKey,
} from "@/lib/api-keys/keys";
import { createApiKeySchema } from "@/lib/api-keys/schema";
import { NotFoundError, UserError } from "@/lib/errors";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { createMailbox } from "@/lib/mailbox/save";
import { createTenant } from "@/lib/tenants/queries";
import { freshDb, seedWorld, type World } from "../support/db";
import { mailboxInput } from "../support/mailbox";

let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

const input = (fields: Record<string, unknown> = {}, tenantId = world.tenantA.id) =>
  createApiKeySchema.parse({ tenantId, name: `Key ${++n}`, scopes: ["mailboxes:read"], ...fields });

const fieldErrors = (fields: Record<string, unknown>) => {
  const parsed = createApiKeySchema.safeParse({
    tenantId: world.tenantA.id,
    name: "x",
    scopes: ["tokens:issue"],
    ...fields,
  });
  return parsed.success ? {} : Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message]));
};

describe("an API key", () => {
  it("is shown once and stored only as a hash of its secret", async () => {
    const { view, key } = await createApiKey(db, world.adminA, input());
    expect(key).toMatch(/^nvm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const secret = key.slice(17);
    const row = (await db.select().from(apiKeys).where(eq(apiKeys.id, view.id)))[0]!;
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await listApiKeys(db, world.adminA, world.tenantA.id))).not.toContain(secret);
    expect(JSON.stringify(await db.select().from(auditLog))).not.toContain(secret);
    expect(await authenticateApiKey(db, `Bearer ${key}`, "10.0.0.1")).toMatchObject({
      ok: true,
      actor: { kind: "api_key", tenantId: world.tenantA.id, scopes: ["mailboxes:read"] },
    });
  });

  it("refuses a key whose secret differs in one character, or whose id belongs to another key", async () => {
    const { key } = await createApiKey(db, world.adminA, input());
    const other = (await createApiKey(db, world.adminA, input())).key;
    const flipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect(await authenticateApiKey(db, `Bearer ${flipped}`, "c")).toEqual({ ok: false, refusal: "unknown" });
    const spliced = key.slice(0, 17) + other.slice(17);
    expect(await authenticateApiKey(db, `Bearer ${spliced}`, "c")).toEqual({ ok: false, refusal: "unknown" });
  });

  it.each([
    ["", "missing"],
    ["Basic dXNlcjpwdw==", "malformed"],
    [`Bearer ${"x".repeat(10_000)}`, "malformed"],
    [`Bearer nvm_zzzzzzzzzzzz_${"A".repeat(43)}`, "malformed"],
  ])("refuses the header %#: %s", async (header, refusal) => {
    expect(await authenticateApiKey(db, header || null, "c")).toEqual({ ok: false, refusal });
  });

  it("writes its last use at most once a minute from the same address, at once from a new one", async () => {
    const { view, key } = await createApiKey(db, world.adminA, input());
    const now = Date.now();
    await authenticateApiKey(db, `Bearer ${key}`, "10.0.0.1", now);
    await authenticateApiKey(db, `Bearer ${key}`, "10.0.0.1", now + 30_000);
    const row = async () => (await db.select().from(apiKeys).where(eq(apiKeys.id, view.id)))[0]!;
    expect((await row()).lastUsedAt?.getTime()).toBe(now);
    await authenticateApiKey(db, `Bearer ${key}`, "10.0.0.2", now + 31_000);
    expect(await row()).toMatchObject({ lastUsedFrom: "10.0.0.2" });
    expect((await row()).lastUsedAt?.getTime()).toBe(now + 31_000);
  });
});

describe("keys and tenants", () => {
  it("cannot be made, listed or revoked by another tenant's admin", async () => {
    const { view } = await createApiKey(db, world.adminA, input());
    await expect(createApiKey(db, world.adminB, input())).rejects.toThrow(NotFoundError);
    await expect(listApiKeys(db, world.adminB, world.tenantA.id)).rejects.toThrow(NotFoundError);
    await expect(revokeApiKey(db, world.adminB, world.tenantA.id, view.id)).rejects.toThrow(NotFoundError);
    // Naming the key under the admin's own tenant does not find it either.
    await expect(revokeApiKey(db, world.adminB, world.tenantB.id, view.id)).rejects.toThrow(NotFoundError);
    expect((await listApiKeys(db, world.adminA, world.tenantA.id)).find((k) => k.id === view.id)?.state).toBe("active");
  });

  it("may be limited only to the tenant's own mailboxes, and then reaches no other", async () => {
    const own = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: `Own ${++n}` }));
    const second = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: `Second ${++n}` }));
    const theirs = await createMailbox(db, world.root, mailboxInput(world.tenantB.id, { name: `Theirs ${++n}` }));
    await expect(createApiKey(db, world.adminA, input({ mailboxIds: [own.id, theirs.id] }))).rejects.toThrow(UserError);
    const { key } = await createApiKey(db, world.adminA, input({ mailboxIds: [own.id] }));
    const auth = await authenticateApiKey(db, `Bearer ${key}`, "c");
    if (!auth.ok) throw new Error(auth.refusal);
    expect((await getMailboxFor(db, auth.actor, world.tenantA.id, own.id)).id).toBe(own.id);
    await expect(getMailboxFor(db, auth.actor, world.tenantA.id, second.id)).rejects.toThrow(NotFoundError);
    await expect(getMailboxFor(db, auth.actor, world.tenantB.id, theirs.id)).rejects.toThrow(NotFoundError);
  });

  it("keeps names unique in a tenant, also for two creations at once", async () => {
    const [first, second] = await Promise.allSettled([
      Promise.resolve().then(async () => createApiKey(db, world.adminA, input({ name: "Twin" }))),
      Promise.resolve().then(async () => createApiKey(db, world.adminA, input({ name: "Twin" }))),
    ]);
    expect([first.status, second.status].sort()).toEqual(["fulfilled", "rejected"]);
    expect((await createApiKey(db, world.adminB, input({ name: "Twin" }, world.tenantB.id))).view.name).toBe("Twin");
  });

  it(`allows ${MAX_ACTIVE_KEYS_PER_TENANT} active keys per tenant; revoked ones do not count`, async () => {
    const tenant = await createTenant(db, world.root, { name: "Many", slug: `many-${++n}` });
    const made = await Promise.all(
      Array.from({ length: MAX_ACTIVE_KEYS_PER_TENANT }, async () =>
        createApiKey(db, world.root, input({}, tenant.id)),
      ),
    );
    await expect(createApiKey(db, world.root, input({}, tenant.id))).rejects.toThrow(/most it may have/);
    await revokeApiKey(db, world.root, tenant.id, made[0]!.view.id);
    expect((await createApiKey(db, world.root, input({}, tenant.id))).view.state).toBe("active");
    const revokedKey = made[0]!.key;
    expect(await authenticateApiKey(db, `Bearer ${revokedKey}`, "c")).toEqual({ ok: false, refusal: "revoked" });
  });
});

describe("the Create API key form", () => {
  it.each([
    [{ name: "" }, "name"],
    [{ name: "x".repeat(101) }, "name"],
    [{ scopes: [] }, "scopes"],
    [{ scopes: ["tokens:issue", "admin"] }, "scopes"],
    [{ mailboxIds: Array.from({ length: 1001 }, (_, i) => i + 1) }, "mailboxIds"],
    [{ mailboxIds: ["abc"] }, "mailboxIds"],
    [{ expiresAt: "2001-01-01" }, "expiresAt"],
    [{ expiresAt: "tomorrow" }, "expiresAt"],
  ])("puts the error next to the field: %o", (fields, field) => {
    expect(Object.keys(fieldErrors(fields))).toEqual([field]);
  });
});
