import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { signInAttempts, users } from "@/db/schema";
import { FAILURE_WINDOW_MS, MAX_EMAIL_FAILURES, MAX_FAILURES, reserveAttempt } from "@/lib/auth/attempts";
import { hashPassword } from "@/lib/auth/password";
import { SIGN_IN_MESSAGES, signInWithPassword } from "@/lib/auth/sign-in";
import { createUser } from "@/lib/users/queries";
import { freshDb, PASSWORD } from "../../support/db";

let db: Db;
const email = "ops@example.com";

beforeEach(async () => {
  db = await freshDb();
  await createUser(db, null, { email, name: "Ops", role: "super_admin", tenantId: undefined, password: PASSWORD });
});

describe("signInWithPassword", () => {
  it("accepts the right password, case-insensitively on the email", async () => {
    const result = await signInWithPassword(db, " OPS@Example.com ", PASSWORD);
    expect(result.ok && result.user.email).toBe(email);
  });

  it("gives one generic message for a wrong password and for an unknown email", async () => {
    const wrong = await signInWithPassword(db, email, "wrong password!");
    const unknown = await signInWithPassword(db, "nobody@example.com", PASSWORD);
    expect(wrong).toEqual({ ok: false, message: SIGN_IN_MESSAGES.invalid });
    expect(unknown).toEqual({ ok: false, message: SIGN_IN_MESSAGES.invalid });
  });

  it("refuses a disabled user with a message saying so", async () => {
    await db.update(users).set({ disabled: true }).where(eq(users.email, email));
    expect(await signInWithPassword(db, email, PASSWORD)).toEqual({ ok: false, message: SIGN_IN_MESSAGES.disabled });
  });

  it("locks the email after 10 failures within 15 minutes, even for the right password", async () => {
    const start = Date.now();
    for (let i = 0; i < MAX_FAILURES; i++) await signInWithPassword(db, email, "wrong", { now: start + i * 1000 });
    const locked = await signInWithPassword(db, email, PASSWORD, { now: start + MAX_FAILURES * 1000 });
    expect(locked.ok).toBe(false);
    expect(!locked.ok && locked.message).toMatch(/Too many failed sign-in attempts\. Try again in 15 minutes\./);
    // Other accounts are not affected.
    expect((await signInWithPassword(db, "nobody@example.com", "x", { now: start })).ok).toBe(false);
    // Once the oldest failures age out, the right password works again.
    const later = await signInWithPassword(db, email, PASSWORD, { now: start + FAILURE_WINDOW_MS + 1000 });
    expect(later.ok).toBe(true);
  });

  it("does not lock after 9 failures, and a success starts the count again", async () => {
    const start = Date.now();
    for (let i = 0; i < MAX_FAILURES - 1; i++) await signInWithPassword(db, email, "wrong", { now: start + i });
    expect((await signInWithPassword(db, email, PASSWORD, { now: start + 100 })).ok).toBe(true);
    for (let i = 0; i < MAX_FAILURES - 1; i++) await signInWithPassword(db, email, "wrong", { now: start + 200 + i });
    expect((await signInWithPassword(db, email, PASSWORD, { now: start + 300 })).ok).toBe(true);
  }, 60_000);

  it("does not store the attempted password", async () => {
    await signInWithPassword(db, email, "canary-password-0001");
    const rows = await db.select().from(signInAttempts);
    expect(JSON.stringify(rows)).not.toContain("canary-password-0001");
  });
});

describe("the hash cost", () => {
  it("upgrades a hash made at the old cost at the next successful sign-in, and only then", async () => {
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(PASSWORD, 2 ** 14) })
      .where(eq(users.email, email));
    const stored = async () => (await db.select().from(users).where(eq(users.email, email)))[0]!.passwordHash;
    await signInWithPassword(db, email, "wrong password");
    expect(await stored()).toMatch(/^scrypt\$16384\$/);
    expect((await signInWithPassword(db, email, PASSWORD)).ok).toBe(true);
    expect(await stored()).toMatch(/^scrypt\$131072\$/);
    expect((await signInWithPassword(db, email, PASSWORD)).ok).toBe(true);
  });
});

describe("limits under a burst", () => {
  const attempts = async () => await db.select().from(signInAttempts).where(eq(signInAttempts.email, email));

  it("60 parallel wrong passwords from one address check at most 10 of them", async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, () => signInWithPassword(db, email, "wrong", { client: "203.0.113.7" })),
    );
    expect((await attempts()).length).toBeLessThanOrEqual(MAX_FAILURES);
    expect(results.filter((r) => !r.ok && r.message === SIGN_IN_MESSAGES.invalid).length).toBeLessThanOrEqual(
      MAX_FAILURES,
    );
    expect(results.filter((r) => !r.ok && r.message.startsWith("Too many failed")).length).toBeGreaterThanOrEqual(50);
  });

  it("the right password from another address still gets in while one address hammers the email", async () => {
    await Promise.all(
      Array.from({ length: 30 }, () => signInWithPassword(db, email, "wrong", { client: "203.0.113.7" })),
    );
    expect((await signInWithPassword(db, email, PASSWORD, { client: "203.0.113.7" })).ok).toBe(false);
    expect((await signInWithPassword(db, email, PASSWORD, { client: "198.51.100.20" })).ok).toBe(true);
  });

  it("many addresses together lock the email once they reach the per-email ceiling", async () => {
    const start = Date.now();
    // Reservations count as failures until settled; no password needs hashing to fill the counter.
    for (let i = 0; i < MAX_EMAIL_FAILURES; i++) await reserveAttempt(db, email, `192.0.2.${i % 250}`, start + i);
    const fresh = await signInWithPassword(db, email, PASSWORD, { client: "198.51.100.99", now: start + 200 });
    expect(!fresh.ok && fresh.message).toMatch(/^Too many failed sign-in attempts/);
    const oneLess = await freshDb();
    await createUser(oneLess, null, {
      email,
      name: "Ops",
      role: "super_admin",
      tenantId: undefined,
      password: PASSWORD,
    });
    for (let i = 0; i < MAX_EMAIL_FAILURES - 1; i++)
      await reserveAttempt(oneLess, email, `192.0.2.${i % 250}`, start + i);
    expect((await signInWithPassword(oneLess, email, PASSWORD, { client: "198.51.100.99", now: start + 200 })).ok).toBe(
      true,
    );
  });
});
