import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { alerts, mailboxes, mailboxTests } from "@/db/schema";
import { createWebhookChannel } from "@/lib/alerts/channels";
import { createWebhookChannelSchema } from "@/lib/alerts/schema";
import { mailboxForKey } from "@/lib/api/mailboxes";
import { authenticateApiKey, createApiKey } from "@/lib/api-keys/keys";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { evaluateAlerts, REMINDER_MS } from "@/lib/service/alerts/evaluate";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { runSweep } from "@/lib/service/monitor";
import { statusPage } from "@/lib/service/status";
import { createTenant } from "@/lib/tenants/queries";
import { freshDb, seedWorld, urlOf, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";
import { type Rig, startRig } from "../../support/rig/rig";
import { WebhookReceiver } from "../../support/webhook-receiver";

// When alerts go out: not for a mailbox awaiting its first Microsoft sign-in (one reminder after a
// day), and at once when a recorded test changes a mailbox's state, once per change even when another
// process evaluates at the same moment.
let rig: Rig;
let db: Db;
let world: World;
let receiver: WebhookReceiver;
let n = 0;
const HOUR = 3_600_000;

beforeAll(async () => {
  rig = await startRig();
  rig.entra.deviceCodeInterval = 1;
  receiver = await new WebhookReceiver(rig.tls).start();
  process.env.ENTRA_AUTHORITY_HOST = rig.entra.authorityHost;
  process.env.MAIL_ALLOW_PRIVATE = [...rig.allowlist, receiver.allowEntry].join(",");
  db = await freshDb();
  world = await seedWorld(db);
});
afterAll(async () => {
  await receiver?.stop();
  await rig?.stop();
});

/** A tenant of its own with a webhook channel, so each test sees only its own alerts. */
async function tenantWithWebhook() {
  const tenant = await createTenant(db, world.root, { name: `Timed ${++n}`, slug: `timed-${n}` });
  const input = createWebhookChannelSchema.parse({ tenantId: String(tenant.id), name: "Ops", url: receiver.url() });
  await createWebhookChannel(db, world.root, input, { allowlist: [receiver.allowEntry] });
  return tenant;
}

const alertsOf = async (mailboxId: number) => await db.select().from(alerts).where(eq(alerts.mailboxId, mailboxId));
const receivedFor = (name: string) => receiver.received.filter((r) => r.body.includes(name));

async function testSaved(tenantId: number, mailboxId: number) {
  const started = await startMailboxTest(db, world.root, { tenantId, mailboxId, source: "saved" });
  if (!started.ok) throw new Error(started.refusal.message);
  return testToEnd(started, { id: mailboxId, name: "", tenant: "" });
}

async function within(ms: number, done: () => boolean): Promise<number> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

describe("a Microsoft sign-in mailbox nobody has signed in yet", () => {
  it("is Awaiting sign-in, is not tested, raises no alert, and gets one reminder after a day", async () => {
    const tenant = await tenantWithWebhook();
    const user = rig.addUser();
    const form = rig.mailboxForm(user, { name: `Awaiting ${n}`, password: "", signInMethod: "device" });
    const mailbox = await createMailbox(
      db,
      world.root,
      saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }),
    );
    const t0 = mailbox.updatedAt.getTime();

    // Three minutes of a monitoring schedule every two seconds (clock injected).
    for (let at = t0; at <= t0 + 180_000; at += 2000) {
      await runSweep(db, { concurrency: 4, now: () => at });
    }
    expect(await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, mailbox.id))).toEqual([]);
    expect(await alertsOf(mailbox.id)).toEqual([]);
    expect(receivedFor(mailbox.name)).toEqual([]);

    // Where it shows: the status overview (its own filter and count) and the API.
    const status = await statusPage(db, world.root, { state: "awaiting-sign-in" });
    expect(status.rows.map((r) => r.id)).toContain(mailbox.id);
    expect(status.counts["awaiting-sign-in"]).toBeGreaterThanOrEqual(1);
    const { key } = await createApiKey(db, world.root, {
      tenantId: tenant.id,
      name: "Reader",
      scopes: ["mailboxes:read"],
      mailboxIds: [],
    });
    const auth = await authenticateApiKey(db, `Bearer ${key}`, "127.0.0.1");
    if (!auth.ok) throw new Error(auth.refusal);
    expect((await mailboxForKey(db, auth.actor, mailbox.id)).sign_in).toEqual({
      state: "awaiting-sign-in",
      account: null,
    });

    // Still awaiting after a day: one reminder, worded as one; not another a day later.
    await evaluateAlerts(db, t0 + 24 * HOUR - 60_000);
    expect(await alertsOf(mailbox.id)).toEqual([]);
    await evaluateAlerts(db, t0 + 24 * HOUR + 1000);
    await evaluateAlerts(db, t0 + 48 * HOUR + 2000);
    await evaluateAlerts(db, t0 + 72 * HOUR + 3000);
    const raised = await alertsOf(mailbox.id);
    expect(raised.map((a) => a.kind)).toEqual(["awaiting-sign-in"]);
    expect(raised[0]!.title).toBe(`Reminder: ${mailbox.name} is still awaiting its Microsoft sign-in`);
    expect(raised[0]!.detail).toContain('press "Sign in with Microsoft"');
  });
});

describe("alerts as soon as a recorded test changes the state", () => {
  it("delivers the failing alert and the recovery within 10 s of the button's test", async () => {
    const tenant = await tenantWithWebhook();
    const user = rig.addUser();
    const broken = { ...rig.mailboxForm(user, { name: `Prompt ${n}` }), password: "not-the-password" };
    const mailbox = await createMailbox(
      db,
      world.root,
      saveMailboxSchema.parse({ tenantId: String(tenant.id), ...broken }),
    );
    expect((await testSaved(tenant.id, mailbox.id)).ok).toBe(false);
    const failedIn = await within(10_000, () => receivedFor(mailbox.name).length >= 1);
    expect((await alertsOf(mailbox.id)).map((a) => a.kind)).toEqual(["failing"]);
    expect(receivedFor(mailbox.name)[0]!.body).toContain("is failing");

    const fixed = saveMailboxSchema.parse({
      tenantId: String(tenant.id),
      ...rig.mailboxForm(user, { name: mailbox.name }),
    });
    const saved = await updateMailbox(db, world.root, { ...fixed, mailboxId: mailbox.id, version: mailbox.version });
    expect((await testSaved(tenant.id, saved.id)).ok).toBe(true);
    const recoveredIn = await within(10_000, () => receivedFor(mailbox.name).length >= 2);
    expect((await alertsOf(mailbox.id)).map((a) => a.kind)).toEqual(["failing", "recovered"]);
    console.log(`alert after the test: failing ${failedIn} ms, recovered ${recoveredIn} ms`);
  });

  it("raises exactly one alert per change when two processes evaluate at the same moment", async () => {
    const tenant = await createTenant(db, world.root, { name: `Raced ${++n}`, slug: `raced-${n}` });
    const boxes = await Promise.all(
      Array.from({ length: 30 }, async (_, i) =>
        createMailbox(db, world.root, mailboxInput(tenant.id, { name: `Raced ${n}-${i}` })),
      ),
    );
    const now = Date.now();
    for (const box of boxes) {
      await db
        .update(mailboxes)
        .set({ health: "failing", lastFailureCode: "AADSTS50126", healthSince: new Date(now) })
        .where(eq(mailboxes.id, box.id));
    }
    const script = path.join(process.cwd(), "tests/support/evaluate-alerts-at.ts");
    const race = async (clock: number) => {
      const startAt = Date.now() + 4000;
      const run = () =>
        promisify(execFile)(
          process.execPath,
          [
            path.join(process.cwd(), "node_modules/tsx/dist/cli.mjs"),
            "--conditions=react-server",
            script,
            String(clock),
            String(startAt),
          ],
          { env: { ...process.env, DATABASE_URL: urlOf(db) } },
        );
      const raised = await Promise.all([run(), run()]);
      // Both processes did evaluate (each prints how many it raised, of every mailbox in the file).
      expect(raised.map((r) => r.stdout)).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    };
    // The state changes, then a day later both remind at once.
    await race(now + 1000);
    await race(now + 1000 + REMINDER_MS + 1000);
    for (const box of boxes) {
      const kinds = (
        await db
          .select({ kind: alerts.kind })
          .from(alerts)
          .where(and(eq(alerts.mailboxId, box.id)))
      ).map((a) => a.kind);
      expect(kinds).toEqual(["failing", "reminder"]);
    }
  }, 60_000);
});
