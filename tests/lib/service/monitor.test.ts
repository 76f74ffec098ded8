import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, type Mailbox, mailboxes, mailboxTests, tenants } from "@/db/schema";
import { NotFoundError } from "@/lib/errors";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { dueRuns, heldBack, runSweep } from "@/lib/service/monitor";
import { createTenant, saveTenantMonitoring } from "@/lib/tenants/queries";
import type { World } from "../../support/db";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

let rig: Rig;
let db: Db;
let world: World;
let n = 0;
const HOUR = 3_600_000;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
});
afterAll(() => rig?.stop());

/** A tenant of its own per test, so each test sees only its mailboxes as due. */
async function tenantWith(count: number, form: (i: number) => Record<string, string> = () => ({})) {
  const tenant = await createTenant(db, world.root, { name: `Monitored ${++n}`, slug: `monitored-${n}` });
  const boxes = await Promise.all(
    Array.from({ length: count }, async (_, i) =>
      createMailbox(
        db,
        world.root,
        saveMailboxSchema.parse({
          tenantId: String(tenant.id),
          ...rig.mailboxForm(rig.addUser(), { name: `Box ${i}`, ...form(i) }),
        }),
      ),
    ),
  );
  return { tenant, boxes };
}

const dueIn = async (tenantId: number, at: number) => (await dueRuns(db, at)).filter((r) => r.tenantId === tenantId);
const row = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;
const scheduled = async (mailboxId: number) =>
  await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, mailboxId));

/** Only this tenant's mailboxes are left due: the others' tenants are switched off for the sweep. */
async function only(tenantId: number): Promise<void> {
  await db.update(tenants).set({ monitorLight: "off", monitorFull: "off" });
  await db.update(mailboxes).set({ monitorLight: null, monitorFull: null });
  await db.update(tenants).set({ monitorLight: "hourly", monitorFull: "daily" }).where(eq(tenants.id, tenantId));
}

describe("what is due (injected clock)", () => {
  it("takes one tenant's mailbox after another's, so the per-tenant test limit does not refuse a sweep", async () => {
    const a = await tenantWith(3);
    const b = await tenantWith(3);
    const due = (await dueRuns(db, Date.now())).filter((r) => r.tenantId === a.tenant.id || r.tenantId === b.tenant.id);
    expect(due.map((r) => r.tenantId)).toEqual([a, b, a, b, a, b].map((t) => t.tenant.id));
  });

  it("runs a full test first, a light one each hour after, and the next full one after a day", async () => {
    const { tenant, boxes } = await tenantWith(1);
    const t0 = Date.now();
    expect(await dueIn(tenant.id, t0)).toEqual([
      { mailboxId: boxes[0]!.id, tenantId: tenant.id, mode: "full", lastAt: null, claimFrom: null },
    ]);
    await db
      .update(mailboxes)
      .set({ lastMonitorFullAt: new Date(t0) })
      .where(eq(mailboxes.id, boxes[0]!.id));
    expect(await dueIn(tenant.id, t0 + HOUR - 1)).toEqual([]);
    expect(await dueIn(tenant.id, t0 + HOUR)).toMatchObject([{ mode: "light" }]);
    await db
      .update(mailboxes)
      .set({ lastMonitorLightAt: new Date(t0 + HOUR) })
      .where(eq(mailboxes.id, boxes[0]!.id));
    expect(await dueIn(tenant.id, t0 + 2 * HOUR - 1)).toEqual([]);
    expect(await dueIn(tenant.id, t0 + 24 * HOUR)).toMatchObject([{ mode: "full" }]);
  });

  it("follows the tenant's setting unless the mailbox has its own", async () => {
    const { tenant, boxes } = await tenantWith(2);
    await db.update(tenants).set({ monitorLight: "off", monitorFull: "off" }).where(eq(tenants.id, tenant.id));
    expect(await dueIn(tenant.id, Date.now())).toEqual([]);
    await db.update(mailboxes).set({ monitorLight: "hourly" }).where(eq(mailboxes.id, boxes[1]!.id));
    expect(await dueIn(tenant.id, Date.now())).toMatchObject([{ mailboxId: boxes[1]!.id, mode: "light" }]);
  });
});

describe("a sweep", () => {
  it("runs the due tests as the scheduler, in the history and the audit log, and nothing twice", async () => {
    const { tenant, boxes } = await tenantWith(3);
    await only(tenant.id);
    const delivered = rig.smtp.delivered.length;
    const report = await runSweep(db, { concurrency: 2 });
    expect(report).toMatchObject({ due: 3, passed: 3, failed: 0, held: 0 });
    for (const box of boxes) {
      expect(await scheduled(box.id)).toMatchObject([{ triggeredBy: "scheduler", mode: "full", outcome: "passed" }]);
      expect((await row(box.id)).lastMonitorFullAt).toBeInstanceOf(Date);
    }
    expect(rig.smtp.delivered.length).toBe(delivered + 3);
    expect(await runSweep(db, { concurrency: 2 })).toMatchObject({ due: 0 });

    // An hour later: light tests only, no message.
    const later = Date.now() + HOUR;
    const light = await runSweep(db, { concurrency: 2, now: () => later });
    expect(light).toMatchObject({ due: 3, passed: 3 });
    expect((await scheduled(boxes[0]!.id)).map((t) => t.mode)).toEqual(["full", "light"]);
    expect(rig.smtp.delivered.length).toBe(delivered + 3);
  });

  it("monitors a Graph mailbox like the others: the full test sends through Graph, the light one only reads its inbox", async () => {
    const { tenant, boxes } = await tenantWith(1, () => ({ transport: "graph" }));
    await only(tenant.id);
    const sent = rig.graphMail.sent.length;
    expect(await runSweep(db, { concurrency: 2 })).toMatchObject({ due: 1, passed: 1 });
    const [full] = await scheduled(boxes[0]!.id);
    expect(full!.steps.map((s) => s.name)).toEqual([
      "settings",
      "network",
      "token",
      "claims",
      "graph_send",
      "graph_receive",
    ]);
    expect(rig.graphMail.sent.length).toBe(sent + 1);
    const later = Date.now() + HOUR;
    expect(await runSweep(db, { concurrency: 2, now: () => later })).toMatchObject({ due: 1, passed: 1 });
    const light = (await scheduled(boxes[0]!.id)).at(-1)!;
    expect(light).toMatchObject({ mode: "light", outcome: "passed" });
    expect(light.steps.find((s) => s.name === "graph_receive")!.summary).toContain("light test");
    expect(rig.graphMail.sent.length).toBe(sent + 1);
    expect((await row(boxes[0]!.id)).lastTlsVersion).toMatch(/^TLSv1\.[23]$/);
  });

  it("never tries a refused password again until the settings change", async () => {
    const { tenant, boxes } = await tenantWith(1, () => ({ password: "not-the-password" }));
    await only(tenant.id);
    const before = rig.entra.tokenRequests("password");
    expect(await runSweep(db, { concurrency: 1 })).toMatchObject({ failed: 1 });
    expect((await scheduled(boxes[0]!.id))[0]).toMatchObject({ failureCode: "AADSTS50126" });
    const nextDay = Date.now() + 25 * HOUR;
    expect(await heldBack(db, boxes[0]!.id)).toBe(true);
    expect(await runSweep(db, { concurrency: 1, now: () => nextDay })).toMatchObject({ held: 1 });
    expect(rig.entra.tokenRequests("password")).toBe(before + 1);

    const box: Mailbox = await row(boxes[0]!.id);
    const user = rig.addUser();
    const input = saveMailboxSchema.parse({
      tenantId: String(tenant.id),
      ...rig.mailboxForm(user, { name: box.name }),
    });
    await updateMailbox(db, world.root, { ...input, mailboxId: box.id, version: box.version });
    expect(await heldBack(db, box.id)).toBe(false);
    expect(await runSweep(db, { concurrency: 1, now: () => nextDay })).toMatchObject({ passed: 1 });
  });
});

describe("several processes sweeping", () => {
  it("share the due tests: each mailbox is claimed and tested by exactly one of them", async () => {
    const { tenant, boxes } = await tenantWith(4);
    await only(tenant.id);
    const [first, second] = await Promise.all([runSweep(db, { concurrency: 2 }), runSweep(db, { concurrency: 2 })]);
    expect(first.passed + second.passed).toBe(4);
    // The other's runs were seen running (deferred) or already claimed: none started twice.
    const skipped = first.elsewhere + second.elsewhere + first.deferred + second.deferred;
    expect(skipped).toBe(first.due + second.due - 4);
    for (const box of boxes) expect(await scheduled(box.id)).toHaveLength(1);
  });

  it("claims nothing when the run cannot start, so the next sweep tries it", async () => {
    const { tenant, boxes } = await tenantWith(1);
    await only(tenant.id);
    // A test of the mailbox already running: the sweep's start is refused as busy.
    await db.insert(mailboxTests).values({
      tenantId: tenant.id,
      mailboxId: boxes[0]!.id,
      triggeredBy: "someone",
      mode: "full",
      source: "saved",
      outcome: "running",
      startedAt: new Date(),
      steps: [],
      credentialFingerprint: "another test's",
    });
    expect(await runSweep(db, { concurrency: 1 })).toMatchObject({ due: 1, deferred: 1 });
    expect((await row(boxes[0]!.id)).lastMonitorFullAt).toBeNull();
  });
});

describe("monitoring settings", () => {
  it("are the tenant's admins' to change, audited, and the others' to leave alone", async () => {
    const input = { tenantId: world.tenantA.id, monitorLight: "daily" as const, monitorFull: "off" as const };
    await expect(saveTenantMonitoring(db, world.adminB, input)).rejects.toThrow(NotFoundError);
    expect(await saveTenantMonitoring(db, world.adminA, input)).toMatchObject({
      monitorLight: "daily",
      monitorFull: "off",
    });
    const audit = (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)!;
    expect(audit).toMatchObject({ action: "tenant.monitoring", actorEmail: world.adminA.email });
    expect(audit.changes).toMatchObject({ monitorLight: { to: "daily" } });
  });

  it("on a mailbox: empty follows the tenant, anything but off, hourly or daily is a field error", () => {
    const form = (monitorLight: string) =>
      saveMailboxSchema.safeParse({ tenantId: "1", ...rig.mailboxForm(rig.addUser(), { monitorLight }) });
    const empty = form("");
    expect(empty.success && empty.data.monitorLight).toBeUndefined();
    const weekly = form("weekly");
    expect(weekly.success).toBe(false);
    if (!weekly.success) expect(weekly.error.issues[0]!.path).toEqual(["monitorLight"]);
  });
});
