// What a sign-in costs with the password hash parameters of before (scrypt N = 2^14) and now (N = 2^17).
// Run: npm run bench:sign-in
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { median } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

Object.assign(process.env, {
  AUTH_SECRET: randomBytes(32).toString("base64"),
  SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}`,
  DATABASE_URL: `file:${path.join(os.tmpdir(), `navigator-bench-${randomBytes(6).toString("hex")}.db`)}`,
});
const { eq } = await import("drizzle-orm");
const { getDb, migrateDatabase } = await import("@/db/client");
const { users } = await import("@/db/schema");
const { hashPassword, verifyPassword } = await import("@/lib/auth/password");
const { signInWithPassword } = await import("@/lib/auth/sign-in");
const { createUser } = await import("@/lib/users/queries");

const db = getDb();
migrateDatabase(db);
const password = "a-bench-password-long-enough";
const email = "bench@navigator.test";
await createUser(db, null, { email, name: "Bench", role: "super_admin", tenantId: undefined, password });

async function timeSignIns(hashFor: () => Promise<string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    await db
      .update(users)
      .set({ passwordHash: await hashFor() })
      .where(eq(users.email, email));
    const started = performance.now();
    const result = await signInWithPassword(db, email, password, { client: `bench-${i}` });
    const elapsed = performance.now() - started;
    if (!result.ok) throw new Error(result.message);
    if (i > 0) times.push(elapsed);
  }
  return times;
}

const current = await hashPassword(password);
const now = await timeSignIns(async () => current);
const upgrades = await timeSignIns(() => hashPassword(password, 2 ** 14));
const before: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const hash = await hashPassword(password, 2 ** 14);
  const started = performance.now();
  await verifyPassword(password, hash);
  before.push(performance.now() - started);
}
console.log(`${RUNS} runs of each, correct password, in-process (scrypt r = 8, p = 1)`);
console.log(`before: verifying a hash at N = 2^14        median ${median(before).toFixed(1)} ms`);
console.log(`now:    sign-in with a hash at N = 2^17      median ${median(now).toFixed(1)} ms`);
console.log(`once:   sign-in that upgrades a 2^14 hash    median ${median(upgrades).toFixed(1)} ms`);
console.log(`ratio now / before: ${(median(now) / median(before)).toFixed(1)}`);
