import "server-only";
import { and, count, eq, gt, isNull, lt, lte, or } from "drizzle-orm";
import pLimit from "p-limit";
import { type Db, transaction } from "@/db/client";
import {
  type Alert,
  type AlertChannel,
  type AlertDelivery,
  alertChannels,
  alertDeliveries,
  alerts,
  mailboxes,
  tenants,
} from "@/db/schema";
import { getAlertChannelFor, openWebhook } from "@/lib/alerts/channels";
import { postWebhook, type WebhookTarget } from "@/lib/alerts/webhook";
import { SYSTEM_ACTORS, type UserActor } from "@/lib/auth/actor";
import { sendMailAs } from "@/lib/engine/send-mail";
import { getEnv } from "@/lib/env";
import { describeError, UserError } from "@/lib/errors";
import { credentialCooldown, credentialFingerprint } from "../test-limits";
import { checkOptionsFor, checkSettingsFor } from "../test-settings";
import { queueDeliveries } from "./evaluate";
import { TEST_WORDS } from "./words";

/** Waits before the 2nd, 3rd, 4th and 5th attempt of a delivery; after the 5th it is failed. */
export const RETRY_DELAYS_MS = [30_000, 2 * 60_000, 10 * 60_000, 60 * 60_000];
/** A process sending a delivery holds it this long, so no other process sends it at the same time. */
const CLAIM_MS = 60_000;
const DELIVERY_CONCURRENCY = 8;

type Pending = { delivery: AlertDelivery; alert: Alert; channel: AlertChannel; tenant: { slug: string; name: string } };

export type DeliveryOptions = {
  now?: () => number;
  webhook?: Partial<WebhookTarget>;
  concurrency?: number;
};

export type DeliveryReport = { delivered: number; retrying: number; failed: number };

/**
 * Sends every delivery that is due, at most 8 at once, each claimed first so that no two processes
 * send it. A failure is tried again after 30 s, 2 min, 10 min and 1 h, then marked failed; one
 * channel's slow or failing receiver never holds up another's alerts.
 */
export async function deliverDueAlerts(db: Db, options: DeliveryOptions = {}): Promise<DeliveryReport> {
  const now = options.now ?? Date.now;
  const due = await db
    .select({
      delivery: alertDeliveries,
      alert: alerts,
      channel: alertChannels,
      tenant: { slug: tenants.slug, name: tenants.name },
    })
    .from(alertDeliveries)
    .innerJoin(alerts, eq(alerts.id, alertDeliveries.alertId))
    .innerJoin(alertChannels, eq(alertChannels.id, alertDeliveries.channelId))
    .innerJoin(tenants, eq(tenants.id, alerts.tenantId))
    .where(
      and(
        eq(alertDeliveries.status, "pending"),
        lte(alertDeliveries.nextAttemptAt, new Date(now())),
        or(isNull(alertDeliveries.claimedUntil), lt(alertDeliveries.claimedUntil, new Date(now()))),
      ),
    )
    .orderBy(alertDeliveries.nextAttemptAt)
    .limit(200);
  const report: DeliveryReport = { delivered: 0, retrying: 0, failed: 0 };
  const limit = pLimit(options.concurrency ?? DELIVERY_CONCURRENCY);
  await Promise.all(
    due.map((pending) =>
      limit(async () => {
        const outcome = await deliverOne(db, pending, options, now);
        if (outcome) report[outcome]++;
      }),
    ),
  );
  return report;
}

/** Delivers what is due and says in the log what went out (the scheduler and a recorded test). */
export async function deliverDueAlertsAndLog(db: Db): Promise<void> {
  const report = await deliverDueAlerts(db);
  if (report.delivered + report.retrying + report.failed > 0) {
    console.log(`alerts: ${report.delivered} delivered, ${report.retrying} to retry, ${report.failed} failed`);
  }
}

async function deliverOne(
  db: Db,
  pending: Pending,
  options: DeliveryOptions,
  now: () => number,
  maxAttempts = RETRY_DELAYS_MS.length + 1,
): Promise<keyof DeliveryReport | null> {
  const { delivery, channel } = pending;
  const claimed = await db
    .update(alertDeliveries)
    .set({ claimedUntil: new Date(now() + CLAIM_MS) })
    .where(
      and(
        eq(alertDeliveries.id, delivery.id),
        eq(alertDeliveries.status, "pending"),
        or(isNull(alertDeliveries.claimedUntil), lt(alertDeliveries.claimedUntil, new Date(now()))),
      ),
    )
    .returning({ id: alertDeliveries.id });
  if (claimed.length === 0) return null;
  let error: string | null;
  try {
    error = await send(db, pending, options, now());
  } catch (thrown) {
    error = `unexpected: ${describeError(thrown)}`;
  }
  const attempts = delivery.attempts + 1;
  const at = new Date(now());
  const outcome: keyof DeliveryReport = error === null ? "delivered" : attempts >= maxAttempts ? "failed" : "retrying";
  await transaction(db, async (tx) => {
    await tx
      .update(alertDeliveries)
      .set({
        attempts,
        claimedUntil: null,
        lastError: error,
        status: outcome === "retrying" ? "pending" : outcome,
        deliveredAt: error === null ? at : null,
        nextAttemptAt: outcome === "retrying" ? new Date(at.getTime() + RETRY_DELAYS_MS[attempts - 1]!) : at,
      })
      .where(eq(alertDeliveries.id, delivery.id));
    await tx
      .update(alertChannels)
      .set({ lastDeliveryAt: at, lastDeliveryOk: error === null, lastError: error })
      .where(eq(alertChannels.id, channel.id));
  });
  return outcome;
}

/** One attempt; null when the channel took it, else the reason in words (no secrets, no URL path). */
async function send(db: Db, { delivery, alert, channel, tenant }: Pending, options: DeliveryOptions, now: number) {
  const env = getEnv();
  const link =
    alert.mailboxId && env.NEXTAUTH_URL
      ? new URL(`/tenants/${tenant.slug}/mailboxes/${alert.mailboxId}`, env.NEXTAUTH_URL).href
      : null;
  const text = `${alert.title} (${tenant.name}). ${alert.detail}${link ? ` ${link}` : ""}`;
  if (channel.kind === "webhook") {
    const { url, secret } = openWebhook(channel);
    const body = JSON.stringify({
      id: `alert-${alert.id}`,
      delivery: delivery.id,
      type: `mailbox.${alert.kind}`,
      state: alert.state,
      previousState: alert.previousState,
      code: alert.code,
      tenant,
      mailbox: alert.mailboxId ? { id: alert.mailboxId, name: alert.mailboxName, url: link } : null,
      title: alert.title,
      detail: alert.detail,
      text,
      createdAt: alert.createdAt.toISOString(),
      sentAt: new Date(now).toISOString(),
    });
    const target = { allowlist: env.MAIL_ALLOW_PRIVATE, ...options.webhook };
    const answer = await postWebhook(
      new URL(url),
      body,
      secret,
      { "x-navigator-delivery": String(delivery.id) },
      target,
    );
    return answer.ok ? null : answer.error;
  }
  const senderId = channel.portalSender ? env.ALERT_SENDER_MAILBOX : channel.senderMailboxId;
  const sender = senderId ? (await db.select().from(mailboxes).where(eq(mailboxes.id, senderId)))[0] : undefined;
  if (!sender) return "The sending mailbox no longer exists: choose another on the tenant's Alerts tab.";
  const settings = checkSettingsFor(sender);
  // The sender's own cool-down applies: alerts never lock its Microsoft account either.
  if (await credentialCooldown(db, sender.id, credentialFingerprint(settings))) {
    return `The sending mailbox ${sender.name} is cooling down after Microsoft refused its sign-in.`;
  }
  const sent = await sendMailAs(
    settings,
    checkOptionsFor(settings, { db, mailbox: sender, actor: SYSTEM_ACTORS.scheduler, cache: true }),
    {
      to: channel.recipients ?? [],
      subject: `[Navigator Mail] ${alert.title}`,
      text: `${alert.title}\nTenant: ${tenant.name}\n\n${alert.detail}\n${link ? `\n${link}\n` : ""}`,
    },
  );
  return sent.ok ? null : `${sent.diagnosis.code}: ${sent.diagnosis.cause}`;
}

/**
 * "Send test alert" at most this often in a minute, per channel and per tenant, so that the button
 * cannot turn a webhook or a list of recipients into a target.
 */
export const TEST_ALERT_LIMITS = { perChannel: 3, perTenant: 10 };

/** "Send test alert": one alert of kind test to this channel only, sent now; the outcome in words. */
export async function sendTestAlert(
  db: Db,
  actor: UserActor,
  tenantId: number,
  channelId: number,
  options: DeliveryOptions = {},
): Promise<{ ok: boolean; error: string | null }> {
  const channel = await getAlertChannelFor(db, actor, tenantId, channelId);
  const at = new Date((options.now ?? Date.now)());
  const pending = await transaction(db, async (tx) => {
    const lastMinute = and(eq(alerts.kind, "test"), gt(alerts.createdAt, new Date(at.getTime() - 60_000)));
    const toChannel =
      (
        await tx
          .select({ n: count() })
          .from(alertDeliveries)
          .innerJoin(alerts, eq(alerts.id, alertDeliveries.alertId))
          .where(and(lastMinute, eq(alertDeliveries.channelId, channel.id)))
      )[0]?.n ?? 0;
    if (toChannel >= TEST_ALERT_LIMITS.perChannel) {
      throw new UserError(
        `This channel got ${toChannel} test alerts in the last minute, the most it may. Wait a minute before the next.`,
      );
    }
    const inTenant =
      (
        await tx
          .select({ n: count() })
          .from(alerts)
          .where(and(lastMinute, eq(alerts.tenantId, tenantId)))
      )[0]?.n ?? 0;
    if (inTenant >= TEST_ALERT_LIMITS.perTenant) {
      throw new UserError(
        `This tenant sent ${inTenant} test alerts in the last minute, the most it may. Wait a minute before the next.`,
      );
    }
    const alert = (
      await tx
        .insert(alerts)
        .values({ tenantId, kind: "test", state: "ok", ...TEST_WORDS, createdAt: at })
        .returning()
    )[0]!;
    await queueDeliveries(tx, alert, at, [channel.id]);
    const delivery = (await tx.select().from(alertDeliveries).where(eq(alertDeliveries.alertId, alert.id)))[0]!;
    const tenant = (
      await tx.select({ slug: tenants.slug, name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId))
    )[0]!;
    return { delivery, alert, channel, tenant };
  });
  // A test alert is tried once, so the administrator sees the answer at once.
  await deliverOne(db, pending, options, options.now ?? Date.now, 1);
  const done = (await db.select().from(alertDeliveries).where(eq(alertDeliveries.id, pending.delivery.id)))[0]!;
  return { ok: done.status === "delivered", error: done.lastError };
}
