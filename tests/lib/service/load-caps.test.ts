import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxes, mailboxTests } from "@/db/schema";
import { SYSTEM_ACTORS } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { startMailboxTest, type TestEvent } from "@/lib/service/mailbox-tests";
import type { Refusal } from "@/lib/service/refusals";
import { createTenant } from "@/lib/tenants/queries";
import { createUser } from "@/lib/users/queries";
import { createUserSchema } from "@/lib/users/schema";
import { PASSWORD, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

// Limits are read from the environment once; this file's portal allows 5 tests at once in all,
// 4 per tenant, 12 mailboxes and 3 admins per tenant.
process.env.MAX_TESTS = "5";
process.env.MAX_MAILBOXES_PER_TENANT = "12";
process.env.MAX_ADMINS_PER_TENANT = "3";

let rig: Rig;
let db: Db;
let world: World;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
});

afterAll(() => rig?.stop());

async function rigMailboxes(tenantId: number, count: number, prefix: string): Promise<Mailbox[]> {
  return await Promise.all(
    Array.from({ length: count }, async (_, i) =>
      createMailbox(
        db,
        world.root,
        saveMailboxSchema.parse({
          tenantId: String(tenantId),
          ...rig.mailboxForm(rig.addUser(), { name: `${prefix} ${i}` }),
        }),
      ),
    ),
  );
}

async function drain(events: AsyncIterable<TestEvent>): Promise<void> {
  for await (const _event of events);
}

/** The most tests whose recorded [start, end] overlap at any instant. */
function maxOverlap(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.delta;
    most = Math.max(most, now);
  }
  return most;
}

/** Fires each request at its own moment within the spread, so tests start while others still run. */
async function burst(requests: { tenantId: number; mailboxId: number }[], spreadMs: number) {
  const refusals: Refusal[] = [];
  const runs: Promise<void>[] = [];
  await Promise.all(
    requests.map(
      (request, i) =>
        new Promise<void>((resolve) =>
          setTimeout(
            async () => {
              const started = await startMailboxTest(db, SYSTEM_ACTORS.cli, { ...request, source: "saved" });
              if (started.ok) runs.push(drain(started.events));
              else refusals.push(started.refusal);
              resolve();
            },
            (i * spreadMs) / requests.length,
          ),
        ),
    ),
  );
  await Promise.all(runs);
  return { refusals, started: runs.length };
}

async function intervalsOf(tenantId?: number) {
  return (await db.select().from(mailboxTests))
    .filter((t) => tenantId === undefined || t.tenantId === tenantId)
    .map((t) => ({ start: t.startedAt.getTime(), end: t.finishedAt!.getTime() }));
}

describe("tests running at once", () => {
  it("50 requests across 10 mailboxes of one tenant never run more than 4 at once", async () => {
    rig.entra.delayMs = 150;
    const boxes = await rigMailboxes(world.tenantA.id, 10, "Burst");
    const requests = Array.from({ length: 50 }, (_, i) => ({
      tenantId: world.tenantA.id,
      mailboxId: boxes[i % 10]!.id,
    }));
    const { refusals, started } = await burst(requests, 2000);
    rig.entra.delayMs = 0;
    expect(maxOverlap(await intervalsOf(world.tenantA.id))).toBeLessThanOrEqual(4);
    expect(started).toBeGreaterThan(4);
    const capacity = refusals.filter((r) => r.kind === "capacity");
    expect(capacity.length).toBeGreaterThan(0);
    expect(capacity[0]).toMatchObject({ retryAfterSeconds: 5, message: expect.stringContaining("at once") });
  });

  it("two tenants together never pass the portal's limit", async () => {
    rig.entra.delayMs = 150;
    const a = await rigMailboxes(world.tenantA.id, 2, "Portal A");
    const b = await rigMailboxes(world.tenantB.id, 8, "Portal B");
    const since = Date.now();
    const requests = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? { tenantId: world.tenantA.id, mailboxId: a[(i / 2) % 2]!.id }
        : { tenantId: world.tenantB.id, mailboxId: b[((i - 1) / 2) % 8]!.id },
    );
    const { refusals } = await burst(requests, 1500);
    rig.entra.delayMs = 0;
    const recent = (await intervalsOf()).filter((i) => i.start >= since);
    expect(maxOverlap(recent)).toBeLessThanOrEqual(5);
    expect(refusals.some((r) => r.kind === "capacity" && r.message.startsWith("The portal is running"))).toBe(true);
  });
});

describe("how much a tenant may hold", () => {
  it("refuses a mailbox beyond MAX_MAILBOXES_PER_TENANT, writing nothing", async () => {
    // A tenant of its own: Beta is bound to the rig's organisation by the tests above.
    const tenantB = (await createTenant(db, world.root, { name: "Full", slug: "full" })).id;
    const inB = async () => (await db.select().from(mailboxes).where(eq(mailboxes.tenantId, tenantB))).length;
    for (let i = await inB(); i < 12; i++)
      await createMailbox(db, world.root, mailboxInput(tenantB, { name: `Fill ${i}` }));
    expect(await inB()).toBe(12);
    await expect(createMailbox(db, world.root, mailboxInput(tenantB, { name: "One too many" }))).rejects.toThrow(
      "This tenant has 12 mailboxes, the most it may have. Delete one first.",
    );
    expect(await inB()).toBe(12);
  });

  it("refuses an admin beyond MAX_ADMINS_PER_TENANT", async () => {
    const input = (n: number) =>
      createUserSchema.parse({
        email: `cap${n}@beta.example`,
        name: "Cap",
        role: "tenant_admin",
        tenantId: String(world.tenantB.id),
        password: PASSWORD,
      });
    await createUser(db, world.root, input(1));
    await createUser(db, world.root, input(2));
    await expect(createUser(db, world.root, input(3))).rejects.toThrow(/3 admins, the most it may have/);
  });
});

describe("emails of other tenants", () => {
  it("a tenant admin cannot tell an email of another tenant from one of their own", async () => {
    const attempt = (email: string) =>
      createUser(
        db,
        world.adminA,
        createUserSchema.parse({
          email,
          name: "X",
          role: "tenant_admin",
          tenantId: String(world.tenantA.id),
          password: PASSWORD,
        }),
      ).catch((error: Error) => error.message);
    const theirs = await attempt(world.adminB.email);
    const ours = await attempt(world.adminA.email);
    expect(theirs).toBe(ours);
    expect(theirs).not.toMatch(/exists|another tenant|beta/i);
  });
});
