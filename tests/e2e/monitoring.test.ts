import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mailboxes, mailboxTests } from "@/db/schema";
import { createEmailChannel, createWebhookChannel } from "@/lib/alerts/channels";
import { createEmailChannelSchema, createWebhookChannelSchema } from "@/lib/alerts/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { launchBrowser, signInAndCreateTenant } from "../support/browser";
import { closeOpened } from "../support/db";
import { type Portal, signInOverHttp } from "../support/portal";
import { BOTH_PERMISSIONS, type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";
import { validSignature, WebhookReceiver } from "../support/webhook-receiver";

let rig: Rig;
let portal: Portal;
let db: Db;
let root: UserActor;

let receiver: WebhookReceiver;
const ALERT_INBOX = { upn: "alerts@contoso.com", password: "alert-inbox-password" };

beforeAll(async () => {
  rig = await startRig({ passwords: { [ALERT_INBOX.upn]: ALERT_INBOX.password } });
  // Tokens live 200 s, less than MSAL's five-minute margin: every test asks Entra, so a revoked
  // consent shows at the next test instead of an hour later.
  rig.entra.accessTokenLifetime = 200;
  receiver = await new WebhookReceiver(rig.tls).start();
  ({ portal, db, root } = await startRigPortal(rig, {
    MONITOR: "on",
    // Every two seconds, so the test need not wait a minute.
    MONITOR_SCHEDULE: "*/2 * * * * *",
    MAIL_ALLOW_PRIVATE: [...rig.allowlist, receiver.allowEntry].join(","),
    NEXTAUTH_URL: "https://portal.example.com",
  }));
}, 180_000);

afterAll(async () => {
  if (db) await closeOpened(db);
  await portal?.stop();
  await receiver?.stop();
  await rig?.stop();
});

describe("the scheduler in the portal process", () => {
  it("starts with npm start and tests a new mailbox on its own, as 'scheduler'", async () => {
    const tenant = await createTenant(db, root, { name: "Watched", slug: "watched" });
    const mailbox = await createMailbox(
      db,
      root,
      saveMailboxSchema.parse({ tenantId: String(tenant.id), ...rig.mailboxForm(rig.addUser(), { name: "Invoices" }) }),
    );
    const runs = async () => await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, mailbox.id));
    await expect
      .poll(async () => (await runs()).filter((t) => t.outcome !== "running").length, { timeout: 30_000 })
      .toBe(1);
    expect((await runs())[0]).toMatchObject({ triggeredBy: "scheduler", mode: "full", outcome: "passed" });
    // The sweep logs once it has also looked at alerts, a moment after the test is recorded.
    await expect.poll(() => portal.output(), { timeout: 10_000 }).toMatch(/monitor: 1 due, 1 passed, 0 failed/);
    // Not again within its interval, however often the sweep looks.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await runs()).toHaveLength(1);

    // The status page shows it healthy, with today's test in its 30-day picture.
    const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
    const page = await (await fetch(`${portal.url}/status?q=invoices`, { headers: { cookie } })).text();
    expect(page).toContain(`data-mailbox="${mailbox.id}"`);
    expect(page).toMatch(/data-state="healthy"[^>]*>Healthy</);
    const src = /src="data:image\/svg\+xml,([^"]+)"/.exec(page)?.[1] ?? "";
    const timeline = decodeURIComponent(src.replaceAll("&#x27;", "'").replaceAll("&amp;", "&"));
    expect(timeline).toContain("class='day-passed'");
    expect(page).toContain("Tested on 1 of the last 30 days; failures on 0");
  });
});

/** The subjects in the alert inbox, read over IMAP as any mail client would. */
async function alertInboxSubjects(): Promise<string[]> {
  const client = new ImapFlow({
    host: rig.ip,
    port: 993,
    secure: true,
    auth: { user: ALERT_INBOX.upn, pass: ALERT_INBOX.password },
    logger: false,
  });
  await client.connect();
  try {
    await client.mailboxOpen("INBOX");
    const subjects: string[] = [];
    for await (const message of client.fetch("1:*", { envelope: true })) subjects.push(message.envelope?.subject ?? "");
    return subjects;
  } catch {
    return [];
  } finally {
    await client.logout();
  }
}

describe("alerts from the scheduler", () => {
  it("alerts a signed webhook and an alert mailbox when consent is revoked, and again when it is restored", async () => {
    const tenant = await createTenant(db, root, { name: "Alerted", slug: "alerted" });
    const app = { clientId: randomUUID(), publicClient: true, consented: [...BOTH_PERMISSIONS] };
    rig.tenant.apps.push(app);
    const form = (name: string, overrides: Record<string, string> = {}) =>
      saveMailboxSchema.parse({
        tenantId: String(tenant.id),
        ...rig.mailboxForm(rig.addUser(), { name, ...overrides }),
      });
    const sender = await createMailbox(db, root, form("Alert sender", { monitorLight: "off", monitorFull: "off" }));
    const watched = await createMailbox(db, root, form("Orders", { azureClientId: app.clientId }));
    const allowlist = [receiver.allowEntry];
    const hook = await createWebhookChannel(
      db,
      root,
      createWebhookChannelSchema.parse({ tenantId: String(tenant.id), name: "Ops", url: receiver.url("/teams") }),
      { allowlist },
    );
    await createEmailChannel(
      db,
      root,
      createEmailChannelSchema.parse({
        tenantId: String(tenant.id),
        name: "IT",
        recipients: ALERT_INBOX.upn,
        senderMailboxId: String(sender.id),
      }),
    );
    const healthOf = async () => (await db.select().from(mailboxes).where(eq(mailboxes.id, watched.id)))[0]!;
    await expect.poll(async () => (await healthOf()).health, { timeout: 60_000 }).toBe("healthy");
    expect(receiver.received).toEqual([]);

    // An hour passes (the light test is due again) and an administrator revokes the consent.
    app.consented = [];
    const anHourAgo = new Date(Date.now() - 3_700_000);
    const due = async () =>
      await db
        .update(mailboxes)
        .set({ lastMonitorLightAt: anHourAgo, lastMonitorFullAt: anHourAgo })
        .where(eq(mailboxes.id, watched.id));
    await due();
    const bodies = () => receiver.received.map((r) => ({ request: r, body: JSON.parse(r.body) }));
    await expect.poll(() => bodies().map((b) => b.body.type), { timeout: 60_000 }).toEqual(["mailbox.failing"]);
    const [failing] = bodies();
    expect(validSignature(failing!.request, hook.secret)).toBe(true);
    expect(failing!.request.path).toBe("/teams");
    expect(failing!.body).toMatchObject({ state: "failing", code: "AADSTS65001", mailbox: { name: "Orders" } });
    expect(failing!.body.text).toContain("Orders is failing (Alerted).");
    expect(failing!.body.text).toContain('setup step "Grant admin consent"');
    expect(failing!.body.text).toContain(`https://portal.example.com/tenants/alerted/mailboxes/${watched.id}`);
    await expect
      .poll(alertInboxSubjects, { timeout: 60_000, interval: 1000 })
      .toEqual(["[Navigator Mail] Orders is failing"]);

    // The consent is granted again; at the next light test the mailbox recovers and says so.
    app.consented = [...BOTH_PERMISSIONS];
    await due();
    await expect
      .poll(() => bodies().map((b) => b.body.type), { timeout: 60_000 })
      .toEqual(["mailbox.failing", "mailbox.recovered"]);
    expect(validSignature(bodies()[1]!.request, hook.secret)).toBe(true);
    await expect
      .poll(alertInboxSubjects, { timeout: 60_000, interval: 1000 })
      .toEqual(["[Navigator Mail] Orders is failing", "[Navigator Mail] Orders works again"]);
    await expect.poll(() => portal.output(), { timeout: 10_000 }).toMatch(/alerts: \d+ delivered/);
    // Neither the webhook URL nor its secret reached the log.
    expect(portal.output()).not.toContain(hook.secret);
    expect(portal.output()).not.toContain("/teams");

    // The alert history shows both, each delivered to both channels.
    const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
    const page = await (await fetch(`${portal.url}/alerts?tenant=alerted`, { headers: { cookie } })).text();
    expect(page.match(/data-kind="(failing|recovered)"/g)).toEqual(['data-kind="recovered"', 'data-kind="failing"']);
    expect(page.match(/data-delivery="delivered"/g)).toHaveLength(4);
  }, 240_000);
});

describe("alert channels in the browser", () => {
  it("adds a webhook (refusing http with the reason), shows its secret once, and sends a test alert", async () => {
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext()).newPage();
      await signInAndCreateTenant(page, portal, "Paged", "paged");
      await page.getByRole("navigation", { name: "Tenant" }).getByRole("link", { name: "Alerts" }).click();
      await page.waitForURL(`${portal.url}/tenants/paged/alerts`);
      const form = page.locator("form", { has: page.getByRole("button", { name: "Add webhook" }) });
      await form.getByLabel("Name").fill("Ops on Teams");
      await form.getByLabel("Webhook URL").fill("http://hooks.example.com/x");
      await form.getByRole("button", { name: "Add webhook" }).click();
      const url = form.getByLabel("Webhook URL");
      await expect.poll(() => url.getAttribute("aria-invalid")).toBe("true");
      expect(await form.textContent()).toContain("Use an https:// URL");
      // What was typed stays, except the URL, which is a credential.
      expect(await form.getByLabel("Name").inputValue()).toBe("Ops on Teams");
      expect(await url.inputValue()).toBe("");

      await url.fill(receiver.url("/from-browser"));
      await form.getByRole("button", { name: "Add webhook" }).click();
      const secret = (await form.locator("[data-reveal]").textContent({ timeout: 15_000 }))!.trim();
      expect(secret).toMatch(/^whsec_/);
      await page.reload();
      expect(await page.content()).not.toContain(secret);
      expect(await page.content()).not.toContain("/from-browser");
      const row = page.locator('tr[data-channel="Ops on Teams"]');
      expect(await row.textContent()).toContain(`Webhook to ${receiver.allowEntry}`);

      const before = receiver.received.length;
      await row.getByRole("button", { name: "Send test alert" }).click();
      await expect
        .poll(() => row.locator("form").first().textContent(), { timeout: 15_000 })
        .toContain("Test alert delivered.");
      const request = receiver.received.slice(before).find((r) => r.path === "/from-browser")!;
      expect(validSignature(request, secret)).toBe(true);
      expect(JSON.parse(request.body)).toMatchObject({ type: "mailbox.test", tenant: { slug: "paged" } });

      await page.goto(`${portal.url}/alerts?tenant=paged`);
      expect(await page.locator('tr[data-kind="test"]').count()).toBe(1);
      expect(await page.locator('[data-delivery="delivered"]').textContent()).toContain("Ops on Teams: delivered");
    } finally {
      await browser.close();
    }
  }, 120_000);
});
