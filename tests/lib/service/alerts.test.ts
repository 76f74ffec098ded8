import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { alertChannels, alertDeliveries, alerts, auditLog, mailboxes } from "@/db/schema";
import { createEmailChannel, createWebhookChannel, deleteAlertChannel, listAlertChannels } from "@/lib/alerts/channels";
import { createEmailChannelSchema, createWebhookChannelSchema } from "@/lib/alerts/schema";
import { NotFoundError, UserError } from "@/lib/errors";
import { createMailbox } from "@/lib/mailbox/save";
import { deliverDueAlerts, RETRY_DELAYS_MS, sendTestAlert, TEST_ALERT_LIMITS } from "@/lib/service/alerts/delivery";
import { evaluateAlerts, REMINDER_MS } from "@/lib/service/alerts/evaluate";
import { listAlerts } from "@/lib/service/alerts/list";
import { createTenant } from "@/lib/tenants/queries";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";
import { issueRigCertificate, type RigTls, rigTlsFromEnv } from "../../support/rig/tls";
import { validSignature, WebhookReceiver } from "../../support/webhook-receiver";

const DAY = 86_400_000;
let db: Db;
let world: World;
let tls: RigTls;
let receiver: WebhookReceiver;
let other: WebhookReceiver;
let n = 0;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
  // A certificate from the run's test CA, which this process trusts as an operator's company CA.
  tls = issueRigCertificate(rigTlsFromEnv());
  receiver = await new WebhookReceiver(tls).start();
  other = await new WebhookReceiver(tls).start();
});
afterAll(async () => {
  await receiver?.stop();
  await other?.stop();
});
beforeEach(async () => {
  // Each test delivers only its own alerts.
  await db.delete(alertDeliveries);
  receiver.received.length = 0;
  receiver.answer = 200;
  other.received.length = 0;
  other.answer = 200;
});

const target = () => ({ allowlist: [receiver.allowEntry, other.allowEntry] });
const deliver = (now: number, extra: { timeoutMs?: number } = {}) =>
  deliverDueAlerts(db, { now: () => now, webhook: { ...target(), ...extra } });

/** A tenant of its own with one mailbox, so each test sees only its own alerts. */
async function tenantWithMailbox() {
  n++;
  const tenant = await createTenant(db, world.root, { name: `Alerted ${n}`, slug: `alerted-${n}` });
  const mailbox = await createMailbox(db, world.root, mailboxInput(tenant.id, { name: `Box ${n}` }));
  return { tenant, mailbox };
}

async function webhook(tenantId: number, to = receiver, name = "Ops") {
  const input = createWebhookChannelSchema.parse({
    tenantId: String(tenantId),
    name,
    url: to.url("/hooks/T0K3N-path"),
  });
  return createWebhookChannel(db, world.root, input, target());
}

const setHealth = async (id: number, health: "healthy" | "failing", code: string | null, at: number) =>
  await db
    .update(mailboxes)
    .set({ health, lastFailureCode: code, healthSince: new Date(at), lastTestAt: new Date(at) })
    .where(eq(mailboxes.id, id));
const alertsOf = async (mailboxId: number) => await db.select().from(alerts).where(eq(alerts.mailboxId, mailboxId));

describe("when an alert is raised (injected clock)", () => {
  it("alerts once when a mailbox starts failing, reminds every 24 h, and alerts when it works again", async () => {
    const { mailbox } = await tenantWithMailbox();
    const t0 = Date.now();
    await setHealth(mailbox.id, "healthy", null, t0);
    await evaluateAlerts(db, t0);
    expect(await alertsOf(mailbox.id)).toEqual([]);

    await setHealth(mailbox.id, "failing", "AADSTS65001", t0 + 1000);
    await evaluateAlerts(db, t0 + 2000);
    await evaluateAlerts(db, t0 + 60_000);
    await evaluateAlerts(db, t0 + REMINDER_MS);
    expect((await alertsOf(mailbox.id)).map((a) => a.kind)).toEqual(["failing"]);
    const [failing] = await alertsOf(mailbox.id);
    expect(failing).toMatchObject({ state: "failing", previousState: null, code: "AADSTS65001" });
    expect(failing!.title).toBe(`${mailbox.name} is failing`);
    expect(failing!.detail).toMatch(/consent/i);
    expect(failing!.detail).toContain('setup step "Grant admin consent"');

    await evaluateAlerts(db, t0 + 2000 + REMINDER_MS);
    await evaluateAlerts(db, t0 + 2000 + REMINDER_MS + 60_000);
    expect((await alertsOf(mailbox.id)).map((a) => a.kind)).toEqual(["failing", "reminder"]);

    await setHealth(mailbox.id, "healthy", null, t0 + 2 * DAY);
    await evaluateAlerts(db, t0 + 2 * DAY);
    await evaluateAlerts(db, t0 + 4 * DAY);
    const kinds = (await alertsOf(mailbox.id)).map((a) => a.kind);
    expect(kinds).toEqual(["failing", "reminder", "recovered"]);
    expect((await alertsOf(mailbox.id))[2]!.detail).toMatch(/^It was failing since .* UTC; now it is fine\.$/);
  });

  it("alerts a client secret 14 days before it expires, not 15", async () => {
    const { mailbox } = await tenantWithMailbox();
    const t0 = Date.now();
    await db
      .update(mailboxes)
      .set({ appCredentialExpiresAt: new Date(t0 + 15 * DAY) })
      .where(eq(mailboxes.id, mailbox.id));
    await evaluateAlerts(db, t0);
    expect(await alertsOf(mailbox.id)).toEqual([]);
    await evaluateAlerts(db, t0 + DAY + 1000);
    expect(await alertsOf(mailbox.id)).toMatchObject([{ kind: "expiring", state: "expiring" }]);
    expect((await alertsOf(mailbox.id))[0]!.detail).toContain("in 14 days");
  });

  it("alerts a lost Microsoft sign-in as needing Sign in again, with Entra's code", async () => {
    const { mailbox } = await tenantWithMailbox();
    const t0 = Date.now();
    await db
      .update(mailboxes)
      .set({
        signInMethod: "device",
        signedInAt: new Date(t0 - DAY),
        signInLostAt: new Date(t0),
        signInLostCode: "SIGN_IN_AGAIN",
      })
      .where(eq(mailboxes.id, mailbox.id));
    await evaluateAlerts(db, t0);
    expect(await alertsOf(mailbox.id)).toMatchObject([{ kind: "needs-sign-in", code: "SIGN_IN_AGAIN" }]);
    expect((await alertsOf(mailbox.id))[0]!.detail).toContain('press "Sign in again"');
  });

  it("writes one delivery per channel of the mailbox's own tenant, and none to another tenant's", async () => {
    const mine = await tenantWithMailbox();
    const theirs = await tenantWithMailbox();
    const a = await webhook(mine.tenant.id, receiver, "A");
    const b = await webhook(mine.tenant.id, other, "B");
    const foreign = await webhook(theirs.tenant.id, receiver, "Foreign");
    await setHealth(mine.mailbox.id, "failing", "SMTP_AUTH_DISABLED", Date.now());
    await evaluateAlerts(db);
    const [alert] = await alertsOf(mine.mailbox.id);
    const channels = (
      await db
        .select({ channelId: alertDeliveries.channelId })
        .from(alertDeliveries)
        .where(eq(alertDeliveries.alertId, alert!.id))
    ).map((d) => d.channelId);
    expect(channels.sort()).toEqual([a.view.id, b.view.id].sort());
    expect(channels).not.toContain(foreign.view.id);
  });
});

describe("webhook delivery", () => {
  it("posts the alert as JSON with a text field, signed with the channel's secret", async () => {
    const { tenant, mailbox } = await tenantWithMailbox();
    const { secret } = await webhook(tenant.id);
    await setHealth(mailbox.id, "failing", "SMTP_AUTH_DISABLED", Date.now());
    await evaluateAlerts(db);
    expect(await deliver(Date.now())).toMatchObject({ delivered: 1, retrying: 0, failed: 0 });
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.path).toBe("/hooks/T0K3N-path");
    expect(validSignature(request!, secret)).toBe(true);
    expect(validSignature({ ...request!, body: `${request!.body} ` }, secret)).toBe(false);
    const body = JSON.parse(request!.body);
    expect(body).toMatchObject({
      type: "mailbox.failing",
      state: "failing",
      code: "SMTP_AUTH_DISABLED",
      tenant: { slug: tenant.slug, name: tenant.name },
      mailbox: { id: mailbox.id, name: mailbox.name },
    });
    expect(body.text).toContain(`${mailbox.name} is failing (${tenant.name}).`);
    expect(body.text).toMatch(/SMTP AUTH/);
    expect(request!.headers["x-navigator-delivery"]).toBe(String(body.delivery));
    // Delivered once: the next round sends nothing.
    expect(await deliver(Date.now() + 60_000)).toEqual({ delivered: 0, retrying: 0, failed: 0 });
  });

  it("retries a receiver that answers 500 after 30 s, 2, 10 and 60 minutes, then shows the channel failing", async () => {
    const { tenant, mailbox } = await tenantWithMailbox();
    const { view } = await webhook(tenant.id);
    receiver.answer = 500;
    const t0 = Date.now();
    await setHealth(mailbox.id, "failing", "AADSTS50126", t0);
    await evaluateAlerts(db, t0);
    let at = t0;
    expect(await deliver(at)).toMatchObject({ retrying: 1 });
    for (const delay of RETRY_DELAYS_MS) {
      // Not before its time.
      expect(await deliver(at + delay - 1000)).toEqual({ delivered: 0, retrying: 0, failed: 0 });
      at += delay;
      const report = await deliver(at);
      expect(report.retrying + report.failed).toBe(1);
    }
    expect(receiver.received).toHaveLength(RETRY_DELAYS_MS.length + 1);
    const [delivery] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.channelId, view.id));
    expect(delivery).toMatchObject({ status: "failed", attempts: 5, lastError: "HTTP 500" });
    const channel = (await listAlertChannels(db, world.root, tenant.id))[0]!;
    expect(channel).toMatchObject({ lastDeliveryOk: false, lastError: "HTTP 500" });
    expect(await deliver(at + DAY)).toEqual({ delivered: 0, retrying: 0, failed: 0 });
  });

  it("does not let a receiver that never answers hold up another channel's alert", async () => {
    const { tenant, mailbox } = await tenantWithMailbox();
    await webhook(tenant.id, receiver, "Hanging");
    await webhook(tenant.id, other, "Fine");
    receiver.answer = "hang";
    await setHealth(mailbox.id, "failing", "AADSTS50126", Date.now());
    await evaluateAlerts(db);
    const started = Date.now();
    const report = await deliver(Date.now(), { timeoutMs: 1500 });
    expect(report).toMatchObject({ delivered: 1, retrying: 1 });
    expect(other.received).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5000);
    const channels = await listAlertChannels(db, world.root, tenant.id);
    expect(channels.find((c) => c.name === "Hanging")!.lastError).toMatch(/no answer within 1.5 s/);
  });

  it("sends each delivery once when two processes deliver at the same moment", async () => {
    const { tenant, mailbox } = await tenantWithMailbox();
    await webhook(tenant.id, receiver, "One");
    await webhook(tenant.id, other, "Two");
    await setHealth(mailbox.id, "failing", "AADSTS50126", Date.now());
    await evaluateAlerts(db);
    const reports = await Promise.all([deliver(Date.now()), deliver(Date.now()), deliver(Date.now())]);
    expect(reports.reduce((sum, r) => sum + r.delivered, 0)).toBe(2);
    expect(receiver.received).toHaveLength(1);
    expect(other.received).toHaveLength(1);
  });

  it("checks the host again at every delivery: a name that now resolves to a private address is refused", async () => {
    const { tenant, mailbox } = await tenantWithMailbox();
    const input = createWebhookChannelSchema.parse({
      tenantId: String(tenant.id),
      name: "Rebinding",
      url: "https://hooks.example.com/x",
    });
    await createWebhookChannel(db, world.root, input, {
      allowlist: [],
      resolver: async () => [{ address: "93.184.216.34", family: 4 }],
    });
    await setHealth(mailbox.id, "failing", "AADSTS50126", Date.now());
    await evaluateAlerts(db);
    const report = await deliverDueAlerts(db, {
      webhook: { allowlist: [], resolver: async () => [{ address: "169.254.169.254", family: 4 }] },
    });
    expect(report).toMatchObject({ retrying: 1 });
    const [channel] = await listAlertChannels(db, world.root, tenant.id);
    expect(channel!.lastError).toMatch(/169\.254\.169\.254/);
  });

  it("Send test alert delivers to that channel only, or says why not", async () => {
    const { tenant } = await tenantWithMailbox();
    const ok = await webhook(tenant.id, receiver, "Good");
    const bad = await webhook(tenant.id, other, "Bad");
    other.answer = 404;
    expect(await sendTestAlert(db, world.root, tenant.id, ok.view.id, { webhook: target() })).toEqual({
      ok: true,
      error: null,
    });
    expect(await sendTestAlert(db, world.root, tenant.id, bad.view.id, { webhook: target() })).toEqual({
      ok: false,
      error: "HTTP 404",
    });
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: "mailbox.test", mailbox: null });
    expect(other.received).toHaveLength(1);
    // A failed test alert is not retried behind the administrator's back.
    expect(await deliver(Date.now() + DAY)).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    const history = await listAlerts(db, world.root, { tenant: tenant.slug });
    expect(history.rows.map((r) => r.deliveries[0]!.status)).toEqual(["failed", "delivered"]);
  });
});

describe("Send test alert under abuse", () => {
  it("sends at most 3 a minute to one channel, and says when the next may go", async () => {
    const { tenant } = await tenantWithMailbox();
    const hook = await webhook(tenant.id, receiver, "Limited");
    const before = receiver.received.length;
    const now = Date.now();
    for (let i = 0; i < TEST_ALERT_LIMITS.perChannel; i++) {
      const sent = await sendTestAlert(db, world.root, tenant.id, hook.view.id, {
        webhook: target(),
        now: () => now + i,
      });
      expect(sent.ok).toBe(true);
    }
    await expect(
      sendTestAlert(db, world.root, tenant.id, hook.view.id, { webhook: target(), now: () => now + 10 }),
    ).rejects.toThrow(
      new UserError(
        "This channel got 3 test alerts in the last minute, the most it may. Wait a minute before the next.",
      ),
    );
    expect(receiver.received.length - before).toBe(TEST_ALERT_LIMITS.perChannel);
    // A minute later it may send again.
    const later = await sendTestAlert(db, world.root, tenant.id, hook.view.id, {
      webhook: target(),
      now: () => now + 61_000,
    });
    expect(later.ok).toBe(true);
  });

  it("sends at most 10 a minute from one tenant, over all its channels, even when they are pressed at once", async () => {
    const { tenant } = await tenantWithMailbox();
    const hooks = await Promise.all(Array.from({ length: 5 }, (_, i) => webhook(tenant.id, receiver, `Many ${i}`)));
    const now = Date.now();
    const outcomes = await Promise.allSettled(
      hooks.flatMap((hook) =>
        Array.from({ length: 3 }, () =>
          sendTestAlert(db, world.root, tenant.id, hook.view.id, { webhook: target(), now: () => now }),
        ),
      ),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(outcomes.length - refused.length).toBe(TEST_ALERT_LIMITS.perTenant);
    for (const o of refused)
      expect(String((o as PromiseRejectedResult).reason.message)).toMatch(/This tenant sent 10 test alerts/);
  });
});

describe("alert channels: what a tenant admin might try", () => {
  const parse = (url: string) => createWebhookChannelSchema.safeParse({ tenantId: "1", name: "x", url });

  it("refuses a URL that is not https, carries a password, or is too long, with the reason", () => {
    expect(parse("http://hooks.example.com/x").error?.issues[0]?.message).toMatch(/https/);
    expect(parse("https://user:pw@hooks.example.com/x").error?.issues[0]?.message).toMatch(/user name and password/);
    expect(parse(`https://hooks.example.com/${"a".repeat(2040)}`).error?.issues[0]?.message).toMatch(/2,048/);
    expect(parse("hooks.example.com").error?.issues[0]?.message).toMatch(/full URL/);
    expect(parse("https://hooks.example.com/x").success).toBe(true);
  });

  it("refuses at save a host that resolves to a private, loopback or metadata address, naming it", async () => {
    const { tenant } = await tenantWithMailbox();
    for (const [url, address] of [
      ["https://127.0.0.1/x", "127.0.0.1"],
      ["https://metadata.example.com/x", "169.254.169.254"],
      ["https://intranet.example.com/x", "10.1.2.3"],
      ["https://[::1]/x", "::1"],
    ] as const) {
      const input = createWebhookChannelSchema.parse({ tenantId: String(tenant.id), name: `P ${address}`, url });
      const saving = createWebhookChannel(db, world.root, input, {
        allowlist: [],
        resolver: async () => [{ address, family: address.includes(":") ? 6 : 4 }],
      });
      await expect(saving).rejects.toThrow(UserError);
      await expect(saving).rejects.toThrow(address);
    }
    // Another port than 443 needs an allow-list entry too.
    const odd = createWebhookChannelSchema.parse({
      tenantId: String(tenant.id),
      name: "Odd",
      url: "https://h.example.com:8443/",
    });
    await expect(
      createWebhookChannel(db, world.root, odd, {
        allowlist: [],
        resolver: async () => [{ address: "93.184.216.34", family: 4 }],
      }),
    ).rejects.toThrow(/port 8443/);
    expect(await listAlertChannels(db, world.root, tenant.id)).toEqual([]);
  });

  it("keeps the URL and signing secret sealed: the database row, the page's view and the audit log show the host only", async () => {
    const { tenant } = await tenantWithMailbox();
    const { view, secret } = await webhook(tenant.id);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const raw = JSON.stringify((await db.select().from(alertChannels).where(eq(alertChannels.id, view.id)))[0]);
    expect(raw).not.toContain("T0K3N");
    expect(raw).not.toContain(secret);
    expect(JSON.stringify(view)).not.toContain("T0K3N");
    expect(view.webhookHost).toBe(`${tls.ip}:${receiver.port}`);
    const audit = JSON.stringify(
      await db
        .select()
        .from(auditLog)
        .where(eq(auditLog.targetId, String(view.id))),
    );
    expect(audit).toContain("alert_channel.create");
    expect(audit).not.toContain("T0K3N");
    expect(audit).not.toContain(secret);
  });

  it("hides one tenant's channels from the other tenant's admin: list, test alert and delete", async () => {
    const a = await webhook(world.tenantA.id, receiver, "Alpha ops");
    await expect(listAlertChannels(db, world.adminB, world.tenantA.id)).rejects.toThrow(NotFoundError);
    await expect(sendTestAlert(db, world.adminB, world.tenantA.id, a.view.id)).rejects.toThrow(NotFoundError);
    await expect(sendTestAlert(db, world.adminB, world.tenantB.id, a.view.id)).rejects.toThrow(NotFoundError);
    await expect(deleteAlertChannel(db, world.adminB, world.tenantB.id, a.view.id)).rejects.toThrow(NotFoundError);
    expect(receiver.received).toEqual([]);
    expect((await db.select().from(alertChannels).where(eq(alertChannels.id, a.view.id)))[0]).toBeDefined();
    expect((await listAlerts(db, world.adminB, {})).rows.every((r) => r.tenantId === world.tenantB.id)).toBe(true);
  });

  it("refuses another tenant's mailbox as the sender, too many recipients, and a duplicate name", async () => {
    const foreignBox = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: `Foreign ${++n}` }));
    const input = (fields: Record<string, string>) =>
      createEmailChannelSchema.safeParse({
        tenantId: String(world.tenantB.id),
        name: "IT",
        recipients: "it@example.com",
        ...fields,
      });
    await expect(
      createEmailChannel(db, world.adminB, input({ senderMailboxId: String(foreignBox.id) }).data!),
    ).rejects.toThrow(/Choose a mailbox of this tenant/);
    const many = Array.from({ length: 21 }, (_, i) => `r${i}@example.com`).join(", ");
    expect(input({ recipients: many, senderMailboxId: "" }).error?.issues[0]?.message).toMatch(/at most 20/);
    expect(input({ recipients: "not-an-address", senderMailboxId: "" }).error?.issues[0]?.message).toMatch(
      /not-an-address is not an email address/,
    );
    // Without a portal sender configured, "the portal's alert sender" is refused with the reason.
    await expect(createEmailChannel(db, world.adminB, input({ senderMailboxId: "" }).data!)).rejects.toThrow(
      /no alert sender/,
    );
    const own = await createMailbox(db, world.root, mailboxInput(world.tenantB.id, { name: `Sender ${++n}` }));
    const created = await createEmailChannel(
      db,
      world.adminB,
      input({ senderMailboxId: String(own.id), name: "IT" }).data!,
    );
    expect(created.senderName).toContain(own.name);
    await expect(
      createEmailChannel(db, world.adminB, input({ senderMailboxId: String(own.id) }).data!),
    ).rejects.toThrow(/already has an alert channel named "IT"/);
  });
});
