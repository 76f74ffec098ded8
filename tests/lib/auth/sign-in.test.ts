import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { signInAttempts, users } from "@/db/schema";
import { FAILURE_WINDOW_MS, MAX_FAILURES, SIGN_IN_MESSAGES, signInWithPassword } from "@/lib/auth/sign-in";
import { createUser } from "@/lib/users/queries";
import { freshDb, PASSWORD } from "../../support/db";

let db: Db;
const email = "ops@example.com";

beforeEach(async () => {
  db = freshDb();
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
    db.update(users).set({ disabled: true }).where(eq(users.email, email)).run();
    expect(await signInWithPassword(db, email, PASSWORD)).toEqual({ ok: false, message: SIGN_IN_MESSAGES.disabled });
  });

  it("locks the email after 10 failures within 15 minutes, even for the right password", async () => {
    const start = Date.now();
    for (let i = 0; i < MAX_FAILURES; i++) await signInWithPassword(db, email, "wrong", start + i * 1000);
    const locked = await signInWithPassword(db, email, PASSWORD, start + MAX_FAILURES * 1000);
    expect(locked.ok).toBe(false);
    expect(!locked.ok && locked.message).toMatch(/Too many failed sign-in attempts\. Try again in 15 minutes\./);
    // Other accounts are not affected.
    expect((await signInWithPassword(db, "nobody@example.com", "x", start)).ok).toBe(false);
    // Once the oldest failures age out, the right password works again.
    const later = await signInWithPassword(db, email, PASSWORD, start + FAILURE_WINDOW_MS + 1000);
    expect(later.ok).toBe(true);
  });

  it("does not lock after 9 failures, and a success starts the count again", async () => {
    const start = Date.now();
    for (let i = 0; i < MAX_FAILURES - 1; i++) await signInWithPassword(db, email, "wrong", start + i);
    expect((await signInWithPassword(db, email, PASSWORD, start + 100)).ok).toBe(true);
    for (let i = 0; i < MAX_FAILURES - 1; i++) await signInWithPassword(db, email, "wrong", start + 200 + i);
    expect((await signInWithPassword(db, email, PASSWORD, start + 300)).ok).toBe(true);
  });

  it("does not store the attempted password", async () => {
    await signInWithPassword(db, email, "canary-password-0001");
    const rows = db.select().from(signInAttempts).all();
    expect(JSON.stringify(rows)).not.toContain("canary-password-0001");
  });
});
