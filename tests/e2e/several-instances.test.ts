import type { ChildProcess } from "node:child_process";
import { eq, inArray } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { deviceSignIns, mailboxes, mailboxTests, tenants } from "@/db/schema";
import { createWebhookChannel } from "@/lib/alerts/channels";
import { createWebhookChannelSchema } from "@/lib/alerts/schema";
import { createApiKey } from "@/lib/api-keys/keys";
import { createApiKeySchema } from "@/lib/api-keys/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { fillRigMailboxForm, launchBrowser, signInAndCreateTenant, stepTexts } from "../support/browser";
import { closeOpened } from "../support/db";
import { startHaproxy } from "../support/haproxy";
import { type Portal, signInOverHttp } from "../support/portal";
import { freePort } from "../support/ports";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";
import { newDatabaseUrl, suiteOnPostgres } from "../support/test-database";
import { WebhookReceiver } from "../support/webhook-receiver";

/**
 * The portal as several instances run it: PostgreSQL, two portal processes and HAProxy with the
 * sample configuration (deploy/haproxy.cfg), round robin with health checks on /api/health. Every
 * request below goes through the load balancer; instances are killed (SIGKILL) and started again.
 */
const FIRST_ADMIN = { email: "admin@navigator-mail.local", password: "several-instances-first-admin" };

let rig: Rig;
let receiver: WebhookReceiver;
let databaseUrl: string;
let db: Db;
let root: UserActor;
let balancer: ChildProcess | undefined;
let lb = "";
let browser: Browser | undefined;
const ports: number[] = [];
const instances: (Portal | undefined)[] = [undefined, undefined];
let env: Record<string, string> = {};

/** Starts instance i (0 or 1) on its own port, on the shared database. */
async function startInstance(i: number): Promise<void> {
  const started = await startRigPortal(rig, env, { port: ports[i]!, databaseUrl, admin: FIRST_ADMIN });
  await closeOpened(started.db);
  instances[i] = started.portal;
}

/** The instance HAProxy says answered ("portal1" or "portal2"), as an index. */
const servedBy = (response: Response) => Number(response.headers.get("x-served-by")?.replace("portal", "")) - 1;

/** Waits until HAProxy's health checks have both instances up (answers come from each). */
async function bothUp(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${lb}/api/health`).catch(() => null);
      if (response?.ok) seen.add(servedBy(response));
    }
    if (seen.size === 2) return;
    if (Date.now() > deadline) throw new Error("HAProxy never saw both instances up");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function restart(i: number): Promise<void> {
  await startInstance(i);
  await bothUp();
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe.skipIf(!suiteOnPostgres())("several instances on PostgreSQL behind HAProxy", () => {
  beforeAll(async () => {
    rig = await startRig();
    receiver = await new WebhookReceiver(rig.tls).start();
    ports.push(await freePort(), await freePort());
    const lbPort = await freePort();
    lb = `http://127.0.0.1:${lbPort}`;
    databaseUrl = await newDatabaseUrl();
    env = {
      MONITOR: "on",
      MONITOR_SCHEDULE: "*/2 * * * * *",
      MONITOR_CONCURRENCY: "8",
      MAIL_ALLOW_PRIVATE: [...rig.allowlist, receiver.allowEntry].join(","),
      ENTRA_GRAPH_HOST: rig.entra.authorityHost,
      NEXTAUTH_URL: lb,
      TRUST_PROXY: "true",
      FIRST_ADMIN_PASSWORD: FIRST_ADMIN.password,
    };
    // Both start at once on the empty database: one migrates and creates the first admin.
    await Promise.all([startInstance(0), startInstance(1)]);
    balancer = startHaproxy(`127.0.0.1:${lbPort}`, [`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`]);
    await bothUp();
    const { openUrl, asActor } = await import("../support/db");
    db = openUrl(databaseUrl);
    const { users } = await import("@/db/schema");
    root = asActor((await db.select().from(users).where(eq(users.email, FIRST_ADMIN.email)))[0]!);
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    balancer?.kill("SIGTERM");
    if (db) await closeOpened(db);
    await Promise.all(instances.map((portal) => portal?.stop()));
    await receiver?.stop();
    await rig?.stop();
  });

  it("a browser signs in, creates a mailbox and passes the test, whichever instance answers each request", async () => {
    const page = await (await browser!.newContext()).newPage();
    await signInAndCreateTenant(page, { url: lb, admin: FIRST_ADMIN }, "Acme Corporation", "acme");
    // The scheduler (on in both instances) would test a new mailbox at once; this tenant's tests are
    // the button's and the API's.
    await db.update(tenants).set({ monitorLight: "off", monitorFull: "off" }).where(eq(tenants.slug, "acme"));
    const user = rig.addUser();
    await page.goto(`${lb}/tenants/acme/mailboxes/new`);
    await fillRigMailboxForm(page, rig, { name: "Invoices", login: user.upn, password: user.password });
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/mailboxes\/\d+\?created=1$/);
    await page.getByRole("button", { name: "Send test email" }).click();
    await page.locator(".result").waitFor({ timeout: 60_000 });
    expect(await stepTexts(page)).toEqual([
      "Settings: Passed",
      "Network: Passed",
      "Token: Passed",
      "Token claims: Passed",
      "SMTP send: Passed",
      "IMAP receive: Passed",
    ]);
    // Page loads went to both instances: the session cookie is good on either.
    const served = new Set<number>();
    const cookie = await signInOverHttp(lb, FIRST_ADMIN.email, FIRST_ADMIN.password);
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${lb}/tenants/acme`, { headers: { cookie }, redirect: "manual" });
      expect(response.status).toBe(200);
      served.add(servedBy(response));
    }
    expect(served).toEqual(new Set([0, 1]));
  }, 120_000);

  it("goes on polling a Microsoft sign-in on the other instance after the one that started it is killed", async () => {
    const tenant = (await db.select().from(tenants).where(eq(tenants.slug, "acme")))[0]!;
    const user = rig.addUser();
    const form = rig.mailboxForm(user, { name: "Signed in", password: "", signInMethod: "device" });
    const mailbox = await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
    const cookie = await signInOverHttp(lb, FIRST_ADMIN.email, FIRST_ADMIN.password);
    const headers = { cookie, "content-type": "application/json" };
    const base = `${lb}/api/tenants/acme/mailboxes/${mailbox.id}/sign-in`;
    const started = await fetch(base, { method: "POST", headers, body: "{}" });
    expect(started.status).toBe(200);
    const starter = servedBy(started);
    const { signIn } = (await json(started)) as { signIn: { id: string; userCode: string } };
    expect(signIn.userCode).toBeTruthy();

    await instances[starter]!.kill();
    rig.entra.approveDeviceCode(signIn.userCode, user.upn);
    // The page asks every few seconds; the lease of the killed poller lapses within 30 s.
    await expect
      .poll(async () => (await json(await fetch(`${base}/${signIn.id}`, { headers: { cookie } }))).signIn, {
        timeout: 60_000,
        interval: 1_000,
      })
      .toMatchObject({ status: "succeeded", account: user.upn });
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toMatchObject({
      signedInAccount: user.upn,
    });
    expect((await db.select().from(deviceSignIns).where(eq(deviceSignIns.id, signIn.id)))[0]).toMatchObject({
      deviceCodeSealed: null,
    });
    await restart(starter);
  }, 180_000);

  it("confirms an Entra setup on the other instance than the one that signed in and planned it", async () => {
    rig.addSetupClient();
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const cookie = await signInOverHttp(lb, FIRST_ADMIN.email, FIRST_ADMIN.password);
    const headers = { cookie, "content-type": "application/json" };
    const base = `${lb}/api/tenants/acme/entra-setup`;
    const body = JSON.stringify({ directory: "contoso.onmicrosoft.com", appName: "Navigator Mail (several)" });
    const started = await fetch(base, { method: "POST", headers, body });
    expect(started.status).toBe(200);
    const planner = servedBy(started);
    const { setup } = (await json(started)) as { setup: { id: string; userCode: string } };
    expect(setup).toMatchObject({ status: "waiting" });
    rig.entra.approveDeviceCode(setup.userCode, admin.upn);
    await expect
      .poll(
        async () =>
          ((await json(await fetch(`${base}/${setup.id}`, { headers: { cookie } }))).setup as { status: string })
            .status,
        {
          timeout: 30_000,
        },
      )
      .toBe("planned");
    // The instance that holds nothing of the setup in memory is the only one left.
    await instances[planner]!.kill();
    const confirmed = await fetch(`${base}/${setup.id}`, { method: "POST", headers, body: "{}" });
    expect(servedBy(confirmed)).toBe(1 - planner);
    expect(((await json(confirmed)).setup as { status: string }).status).toBe("done");
    await restart(planner);
  }, 180_000);

  it("tests each of 200 due mailboxes exactly once and sends each alert once, with an instance killed mid-sweep", async () => {
    const boxes: number[] = [];
    const failing: number[] = [];
    const tenantIds: number[] = [];
    for (let t = 0; t < 10; t++) {
      const tenant = await createTenant(db, root, { name: `Swept ${t}`, slug: `swept-${t}` });
      tenantIds.push(tenant.id);
      await db.update(tenants).set({ monitorLight: "off", monitorFull: "off" }).where(eq(tenants.id, tenant.id));
      await createWebhookChannel(
        db,
        root,
        createWebhookChannelSchema.parse({
          tenantId: String(tenant.id),
          name: "Ops",
          url: receiver.url(`/swept-${t}`),
        }),
        { allowlist: [receiver.allowEntry] },
      );
      for (let i = 0; i < 20; i++) {
        const broken = i < 2;
        const user = rig.addUser();
        const form = rig.mailboxForm(user, { name: `Box ${i}`, ...(broken ? { password: "not-the-password" } : {}) });
        const box = await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
        boxes.push(box.id);
        if (broken) failing.push(box.id);
      }
    }
    const scheduled = async () =>
      await db
        .select({ mailboxId: mailboxTests.mailboxId, outcome: mailboxTests.outcome })
        .from(mailboxTests)
        .where(inArray(mailboxTests.mailboxId, boxes));
    // All 200 become due at once: a light test (sign-in only) each.
    await db.update(tenants).set({ monitorLight: "hourly" }).where(inArray(tenants.id, tenantIds));
    await expect.poll(async () => (await scheduled()).length, { timeout: 60_000, interval: 200 }).toBeGreaterThan(30);
    const killed = 1;
    await instances[killed]!.kill();
    await expect
      .poll(async () => new Set((await scheduled()).map((t) => t.mailboxId)).size, { timeout: 120_000 })
      .toBe(200);
    // A few more sweeps: nothing is tested twice.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const runs = await scheduled();
    const perMailbox = new Map<number, number>();
    for (const run of runs) perMailbox.set(run.mailboxId, (perMailbox.get(run.mailboxId) ?? 0) + 1);
    expect([...perMailbox.values()].every((n) => n === 1)).toBe(true);
    expect(runs).toHaveLength(200);
    // Tests that were running on the killed instance stay unfinished; every other one ended.
    const unfinished = runs.filter((r) => r.outcome === "running").length;
    expect(unfinished).toBeLessThanOrEqual(8);

    // One "failing" alert per broken mailbox whose test finished, each delivered once.
    const alerted = () =>
      receiver.received
        .filter((r) => r.path.startsWith("/swept-"))
        .map((r) => JSON.parse(r.body) as { type: string; mailbox: { id: number } });
    const finishedBroken = failing.filter((id) => runs.some((r) => r.mailboxId === id && r.outcome !== "running"));
    await expect.poll(() => alerted().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(finishedBroken.length);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const alerts = alerted();
    expect(alerts.every((a) => a.type === "mailbox.failing")).toBe(true);
    expect(alerts.map((a) => a.mailbox.id).sort()).toEqual([...finishedBroken].sort());
    await restart(killed);
  }, 300_000);

  it("answers every /api/v1/token request while an instance restarts: 5xx only for requests in flight on it", async () => {
    const tenant = (await db.select().from(tenants).where(eq(tenants.slug, "acme")))[0]!;
    const user = rig.addUser();
    const form = rig.mailboxForm(user, { name: "Token source" });
    const mailbox = await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
    const { key } = await createApiKey(
      db,
      root,
      createApiKeySchema.parse({ tenantId: tenant.id, name: "ERP", scopes: ["tokens:issue"] }),
    );
    const call = () =>
      fetch(`${lb}/api/v1/mailboxes/${mailbox.id}/token`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{}",
      });
    expect((await call()).status).toBe(200);
    // Every answer, and every request that got none (or only part of one), with when it ended.
    const answers: { at: number; status: number }[] = [];
    const unanswered: { at: number; error: string }[] = [];
    let running = true;
    const CONCURRENCY = 8;
    const loops = Array.from({ length: CONCURRENCY }, async () => {
      while (running) {
        try {
          const response = await call();
          await response.arrayBuffer();
          answers.push({ at: Date.now(), status: response.status });
        } catch (error) {
          unanswered.push({ at: Date.now(), error: `${String(error)}: ${String((error as Error).cause)}` });
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const victim = 0;
    const killedAt = Date.now();
    await instances[victim]!.kill();
    const goneAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await restart(victim);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    running = false;
    await Promise.all(loops);
    expect(answers.length).toBeGreaterThan(100);
    // The only requests without a 200 are those the killed instance was answering: at most one per
    // client, and all ended while it died. HAProxy sent the ones it had not started answering to the
    // other instance (deploy/haproxy.cfg); one whose answer had begun is cut off.
    const failed = [...answers.filter((a) => a.status !== 200), ...unanswered];
    expect(failed.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(answers.filter((a) => a.status !== 200).every((a) => a.status >= 500)).toBe(true);
    for (const failure of failed) {
      expect(failure.at).toBeGreaterThanOrEqual(killedAt);
      expect(failure.at).toBeLessThanOrEqual(goneAt + 100);
    }
  }, 180_000);
});
