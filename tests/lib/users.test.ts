import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Db } from "@/db/client";
import { auditLog, users } from "@/db/schema";
import { MAX_FAILURES } from "@/lib/auth/attempts";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { changeOwnPassword, createUser, listUsersFor, listUsersPage, setUserDisabled } from "@/lib/users/queries";
import { changePasswordSchema, createUserSchema } from "@/lib/users/schema";
import { asActor, freshDb, PASSWORD, seedWorld, type World } from "../support/db";

let db: Db;
let world: World;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

const counts = async () => [(await db.select().from(users)).length, (await db.select().from(auditLog)).length];

describe("user validation", () => {
  it("reports every field error at once", () => {
    const result = createUserSchema.safeParse({
      email: "not-an-email",
      name: "",
      role: "king",
      tenantId: "",
      password: "short",
    });
    expect(Object.keys(z.flattenError(result.error!).fieldErrors).sort()).toEqual([
      "email",
      "name",
      "password",
      "role",
    ]);
  });

  it.each([
    [{ role: "tenant_admin", tenantId: "" }, "A tenant admin needs a tenant."],
    [{ role: "super_admin", tenantId: "1" }, "A super-admin belongs to no tenant; leave this empty."],
  ])("ties role and tenant: %j", (input, message) => {
    const result = createUserSchema.safeParse({ email: "x@example.com", name: "X", password: PASSWORD, ...input });
    expect(z.flattenError(result.error!).fieldErrors.tenantId).toEqual([message]);
  });

  it("refuses over-long input", () => {
    const result = createUserSchema.safeParse({
      email: `${"a".repeat(250)}@example.com`,
      name: "n".repeat(101),
      role: "super_admin",
      password: "p".repeat(201),
    });
    expect(Object.keys(z.flattenError(result.error!).fieldErrors).sort()).toEqual(["email", "name", "password"]);
  });

  it("checks the new password twice", () => {
    const result = changePasswordSchema.safeParse({
      currentPassword: "old",
      newPassword: "a-new-long-password",
      confirmPassword: "different-password",
    });
    expect(z.flattenError(result.error!).fieldErrors).toEqual({ confirmPassword: ["The two new passwords differ."] });
  });
});

describe("user queries", () => {
  it("refuses a duplicate email (any case) on the email field, writing nothing; a super-admin is told why", async () => {
    const before = await counts();
    const input = createUserSchema.parse({
      email: "A@ALPHA.example",
      name: "Dup",
      role: "tenant_admin",
      tenantId: String(world.tenantA.id),
      password: PASSWORD,
    });
    await expect(createUser(db, world.root, input)).rejects.toMatchObject({
      field: "email",
      message: "A user with the email a@alpha.example already exists.",
    });
    expect(await counts()).toEqual(before);
  });

  it("refuses a tenant that does not exist, writing nothing", async () => {
    const before = await counts();
    await expect(
      createUser(db, world.root, {
        email: "ghost@example.com",
        name: "G",
        role: "tenant_admin",
        tenantId: 999,
        password: PASSWORD,
      }),
    ).rejects.toMatchObject({ field: "tenantId" });
    expect(await counts()).toEqual(before);
  });

  it("never stores or audits the password in plain text", async () => {
    const canary = "canary-password-7f3a9";
    const user = await createUser(db, world.root, {
      email: "c@alpha.example",
      name: "C",
      role: "tenant_admin",
      tenantId: world.tenantA.id,
      password: canary,
    });
    const bytes = JSON.stringify([await db.select().from(users), await db.select().from(auditLog)]);
    expect(bytes).not.toContain(canary);
    expect((await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)?.changes).toMatchObject({
      password: "changed",
      email: { to: user.email },
    });
  });

  it("disabling a user stops their sign-in and ends their sessions", async () => {
    const user = await createUser(db, world.root, {
      email: "d@alpha.example",
      name: "D",
      role: "tenant_admin",
      tenantId: world.tenantA.id,
      password: PASSWORD,
    });
    const disabled = await setUserDisabled(db, world.adminA, { userId: user.id, disabled: true });
    expect(disabled.sessionVersion).toBe(user.sessionVersion + 1);
    expect((await signInWithPassword(db, user.email, PASSWORD)).ok).toBe(false);
    await setUserDisabled(db, world.root, { userId: user.id, disabled: false });
    expect((await signInWithPassword(db, user.email, PASSWORD)).ok).toBe(true);
    const actions = (
      await db
        .select()
        .from(auditLog)
        .where(eq(auditLog.targetId, String(user.id)))
        .orderBy(auditLog.id)
    ).map((e) => e.action);
    expect(actions).toEqual(["user.create", "user.disable", "user.enable"]);
  });

  it("the Users list pages and searches, and a tenant admin's search never reaches another tenant", async () => {
    const everyone = await listUsersPage(db, world.root, { q: "@" });
    expect(everyone.total).toBeGreaterThanOrEqual(3);
    const bEmail = (await listUsersFor(db, world.adminB))[0]!.email;
    expect((await listUsersPage(db, world.root, { q: bEmail })).rows.map((u) => u.email)).toEqual([bEmail]);
    expect((await listUsersPage(db, world.adminA, { q: bEmail })).rows).toEqual([]);
    expect((await listUsersPage(db, world.adminA, { q: "beta" })).total).toBe(0);
    expect((await listUsersPage(db, world.adminA, { tenantId: world.tenantB.id })).rows).toEqual([]);
  });

  it("an admin cannot disable themselves", async () => {
    await expect(setUserDisabled(db, world.adminA, { userId: world.adminA.id, disabled: true })).rejects.toThrow(
      "You cannot disable or enable your own account.",
    );
  });

  it("a tenant admin sees only their tenant's users, without hashes", async () => {
    const listed = await listUsersFor(db, world.adminA);
    expect(listed.every((u) => u.tenantId === world.tenantA.id)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain("scrypt$");
  });

  it("changing the password needs the current one and ends every session", async () => {
    const user = await createUser(db, world.root, {
      email: "p@alpha.example",
      name: "P",
      role: "tenant_admin",
      tenantId: world.tenantA.id,
      password: PASSWORD,
    });
    const actor = asActor(user);
    await expect(
      changeOwnPassword(db, actor, {
        currentPassword: "wrong",
        newPassword: "another-long-password",
        confirmPassword: "another-long-password",
      }),
    ).rejects.toMatchObject({ field: "currentPassword" });
    await changeOwnPassword(db, actor, {
      currentPassword: PASSWORD,
      newPassword: "another-long-password",
      confirmPassword: "another-long-password",
    });
    const after = (await db.select().from(users).where(eq(users.id, user.id)))[0]!;
    expect(after.sessionVersion).toBe(user.sessionVersion + 1);
    expect((await signInWithPassword(db, user.email, "another-long-password")).ok).toBe(true);
  });

  it("the Account page's current-password check shares the sign-in counters", async () => {
    const user = await createUser(db, world.root, {
      email: "guess@alpha.example",
      name: "G",
      role: "tenant_admin",
      tenantId: world.tenantA.id,
      password: PASSWORD,
    });
    const change = (currentPassword: string) =>
      changeOwnPassword(
        db,
        asActor(user),
        { currentPassword, newPassword: "another-long-password", confirmPassword: "another-long-password" },
        { client: "203.0.113.5" },
      );
    for (let i = 0; i < MAX_FAILURES; i++)
      await expect(change("wrong")).rejects.toMatchObject({ field: "currentPassword" });
    await expect(change(PASSWORD)).rejects.toThrow(/^Too many failed sign-in attempts/);
    expect((await signInWithPassword(db, user.email, PASSWORD, { client: "203.0.113.5" })).ok).toBe(false);
    expect((await signInWithPassword(db, user.email, PASSWORD, { client: "198.51.100.1" })).ok).toBe(true);
  }, 60_000);
});
