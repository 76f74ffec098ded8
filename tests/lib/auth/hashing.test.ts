import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { signInAttempts } from "@/db/schema";
import { HASHING_AT_ONCE, HashingBusyError, hashingPeak, hashPassword, verifyPassword } from "@/lib/auth/password";
import { SIGN_IN_MESSAGES, signInWithPassword } from "@/lib/auth/sign-in";
import { createUser } from "@/lib/users/queries";
import { freshDb, PASSWORD } from "../../support/db";

describe("password hashing under a burst", () => {
  it("runs at most the cap at once, queues a few and refuses the rest at once", async () => {
    // A cheap hash (N = 2^14) keeps the test quick; the cap is the same for every cost.
    const stored = await hashPassword("right password", 2 ** 14);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => verifyPassword(i % 2 ? "right password" : "wrong", stored)),
    );
    expect(hashingPeak()).toBeLessThanOrEqual(HASHING_AT_ONCE);
    expect(hashingPeak()).toBeGreaterThan(0);
    const refused = outcomes.filter((o) => o.status === "rejected");
    const answered = outcomes.filter((o) => o.status === "fulfilled");
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(HASHING_AT_ONCE);
    for (const o of refused) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(HashingBusyError);
    // Once the burst is over, hashing works again.
    expect(await verifyPassword("right password", stored)).toBe(true);
  });
});

describe("sign-in under a burst", () => {
  it("answers a sign-in the portal is too busy to check with its own message, and does not count it", async () => {
    const db = await freshDb();
    const email = "burst@example.com";
    await createUser(db, null, { email, name: "Ops", role: "super_admin", tenantId: undefined, password: PASSWORD });
    // Many addresses, so that the per-address limit does not stop them before they hash.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => signInWithPassword(db, email, "wrong", { client: `198.51.100.${i}` })),
    );
    const busy = results.filter((r) => !r.ok && r.message === SIGN_IN_MESSAGES.busy);
    const checked = results.filter((r) => !r.ok && r.message === SIGN_IN_MESSAGES.invalid);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.length + checked.length).toBe(30);
    // Only the attempts whose password was checked count towards the lock-out.
    const counted = await db.select().from(signInAttempts).where(eq(signInAttempts.email, email));
    expect(counted).toHaveLength(checked.length);
    expect((await signInWithPassword(db, email, PASSWORD, { client: "203.0.113.1" })).ok).toBe(true);
  });
});
