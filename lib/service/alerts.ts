import "server-only";
import { and, desc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import pLimit from "p-limit";
import type { Db, Tx } from "@/db/client";
import {
  type Alert,
  type AlertChannel,
  type AlertDelivery,
  type AlertKind,
  type AlertState,
  alertChannels,
  alertDeliveries,
  alerts,
  mailboxes,
  tenants,
} from "@/db/schema";
import { getAlertChannelFor, openWebhook } from "@/lib/alerts/channels";
import { postWebhook, type WebhookTarget } from "@/lib/alerts/webhook";
import { type Actor, isSuperAdmin, type UserActor } from "@/lib/auth/actor";
import { CATALOGUE, SETUP_STEP_LABELS } from "@/lib/engine/diagnoses";
import { sendMailAs } from "@/lib/engine/send-mail";
import { getEnv } from "@/lib/env";
import { describeError } from "@/lib/errors";
import { formatUtc } from "@/lib/format-time";
import { containsPattern, PAGE_SIZE } from "@/lib/paging";
import { credentialCooldown, credentialFingerprint } from "./test-limits";
import { checkOptionsFor, checkSettingsFor } from "./test-settings";

const DAY = 86_400_000;
/** A secret or certificate expiring this soon raises an alert. */
const EXPIRY_ALERT_DAYS = 14;
/** While a mailbox stays broken, a reminder goes out this long after the last alert. */
export const REMINDER_MS = DAY;
/** Waits before the 2nd, 3rd, 4th and 5th attempt of a delivery; after the 5th it is failed. */
export const RETRY_DELAYS_MS = [30_000, 2 * 60_000, 10 * 60_000, 60 * 60_000];
/** A process sending a delivery holds it this long, so no other process sends it at the same time. */
const CLAIM_MS = 60_000;
const DELIVERY_CONCURRENCY = 8;

/** The alert state as SQL: the same order of precedence as the status page, with the 14-day expiry. */
function alertStateSql(now: number): SQL<AlertState> {
  return sql<AlertState>`CASE
    WHEN ${mailboxes.signInMethod} = 'device' AND ${mailboxes.signInLostAt} IS NOT NULL THEN 'needs-sign-in'
    WHEN ${mailboxes.health} = 'failing' THEN 'failing'
    WHEN ${mailboxes.appCredentialExpiresAt} IS NOT NULL AND ${mailboxes.appCredentialExpiresAt} < ${now + EXPIRY_ALERT_DAYS * DAY} THEN 'expiring'
    ELSE 'ok' END`;
}

type Subject = {
  id: number;
  tenantId: number;
  name: string;
  state: AlertState;
  previous: AlertState | null;
  previousSince: Date | null;
  lastAlertAt: Date | null;
  failureCode: string | null;
  signInLostCode: string | null;
  expiresAt: Date | null;
  certificate: boolean;
};

/**
 * Compares every mailbox's state with the one last alerted about: a change raises an alert (a
 * mailbox never alerted about that is fine raises none), and a mailbox that stays broken gets a
 * reminder every 24 h. The alert and its deliveries to each of the tenant's channels are written in
 * one transaction with the new state, so a state change is alerted exactly once.
 */
export function evaluateAlerts(db: Db, now = Date.now()): number {
  const state = alertStateSql(now);
  const subjects = db
    .select({
      id: mailboxes.id,
      tenantId: mailboxes.tenantId,
      name: mailboxes.name,
      state,
      previous: mailboxes.alertState,
      previousSince: mailboxes.alertStateSince,
      lastAlertAt: mailboxes.lastAlertAt,
      failureCode: mailboxes.lastFailureCode,
      signInLostCode: mailboxes.signInLostCode,
      expiresAt: mailboxes.appCredentialExpiresAt,
      certificate: sql<boolean>`${mailboxes.certificatePem} IS NOT NULL`.mapWith(Boolean),
    })
    .from(mailboxes)
    .where(
      or(
        sql`${state} <> coalesce(${mailboxes.alertState}, 'ok')`,
        and(
          sql`${state} <> 'ok'`,
          or(isNull(mailboxes.lastAlertAt), lte(mailboxes.lastAlertAt, new Date(now - REMINDER_MS))),
        ),
      ),
    )
    .all() as Subject[];
  let raised = 0;
  for (const subject of subjects) {
    if (raiseAlert(db, subject, now)) raised++;
  }
  return raised;
}

function raiseAlert(db: Db, subject: Subject, now: number): boolean {
  const previous = subject.previous ?? "ok";
  const kind: Exclude<AlertKind, "test"> =
    subject.state === previous ? "reminder" : subject.state === "ok" ? "recovered" : subject.state;
  const words = alertWords(kind, subject, now);
  const at = new Date(now);
  return db.transaction(
    (tx) => {
      // Only if nobody moved the state meanwhile (another process, an earlier evaluation).
      const moved = tx
        .update(mailboxes)
        .set({
          alertState: subject.state,
          alertStateSince: subject.state === previous ? subject.previousSince : at,
          lastAlertAt: at,
        })
        .where(
          and(
            eq(mailboxes.id, subject.id),
            subject.previous === null ? isNull(mailboxes.alertState) : eq(mailboxes.alertState, subject.previous),
          ),
        )
        .run();
      if (moved.changes === 0) return false;
      const alert = tx
        .insert(alerts)
        .values({
          tenantId: subject.tenantId,
          mailboxId: subject.id,
          mailboxName: subject.name,
          kind,
          state: subject.state,
          previousState: subject.previous,
          code: kind === "recovered" ? null : codeOf(subject),
          ...words,
          createdAt: at,
        })
        .returning()
        .get();
      queueDeliveries(tx, alert, at);
      return true;
    },
    { behavior: "immediate" },
  );
}

function queueDeliveries(tx: Tx, alert: Alert, at: Date, channelIds?: number[]): void {
  const channels = tx
    .select({ id: alertChannels.id })
    .from(alertChannels)
    .where(
      and(eq(alertChannels.tenantId, alert.tenantId), channelIds ? inArray(alertChannels.id, channelIds) : undefined),
    )
    .all();
  if (channels.length === 0) return;
  tx.insert(alertDeliveries)
    .values(
      channels.map((c) => ({ alertId: alert.id, channelId: c.id, status: "pending" as const, nextAttemptAt: at })),
    )
    .run();
}

function codeOf(subject: Subject): string | null {
  if (subject.state === "needs-sign-in") return subject.signInLostCode;
  if (subject.state === "failing") return subject.failureCode;
  return null;
}

const STATE_WORDS: Record<AlertState, string> = {
  ok: "working",
  failing: "failing",
  "needs-sign-in": "waiting for Sign in again",
  expiring: "about to lose its credential",
};

/** The words every channel sends: a title and what to do, from the diagnosis catalogue. */
function alertWords(
  kind: Exclude<AlertKind, "test">,
  subject: Subject,
  now: number,
): { title: string; detail: string } {
  const name = subject.name;
  const explain = (): string => {
    if (subject.state === "expiring" && subject.expiresAt) {
      const days = Math.max(0, Math.ceil((subject.expiresAt.getTime() - now) / DAY));
      const what = subject.certificate ? "certificate" : "client secret";
      return `Its ${what} expires on ${formatUtc(subject.expiresAt).slice(0, 10)} (in ${days} day${days === 1 ? "" : "s"}). Add a new ${what} to the app registration in Microsoft Entra ID and save it on the mailbox before then.`;
    }
    const code = codeOf(subject);
    const entry = code ? CATALOGUE[code as keyof typeof CATALOGUE] : undefined;
    if (!entry) return `The latest test failed${code ? ` (${code})` : ""}. Open the mailbox for its steps.`;
    return `${entry.cause} Fix: ${entry.fix} (setup step "${SETUP_STEP_LABELS[entry.setupStep]}").`;
  };
  switch (kind) {
    case "failing":
      return { title: `${name} is failing`, detail: explain() };
    case "needs-sign-in":
      return {
        title: `${name} needs "Sign in again"`,
        detail: `${explain()} Open the mailbox in Navigator Mail and press "Sign in again".`,
      };
    case "expiring":
      return { title: `${name}: credential expires soon`, detail: explain() };
    case "recovered": {
      const since = subject.previousSince ? ` since ${formatUtc(subject.previousSince)} UTC` : "";
      const was = STATE_WORDS[subject.previous ?? "ok"];
      return { title: `${name} works again`, detail: `It was ${was}${since}; now it is fine.` };
    }
    case "reminder": {
      const since = subject.previousSince ? ` since ${formatUtc(subject.previousSince)} UTC` : "";
      return {
        title: `Still ${STATE_WORDS[subject.state]}: ${name}`,
        detail: `Reminder: ${STATE_WORDS[subject.state]}${since}. ${explain()}`,
      };
    }
  }
}

const TEST_WORDS = {
  title: "Test alert from Navigator Mail",
  detail: "This channel works: alerts about this tenant's mailboxes will arrive here.",
};

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
  const due = db
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
    .limit(200)
    .all();
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

async function deliverOne(
  db: Db,
  pending: Pending,
  options: DeliveryOptions,
  now: () => number,
  maxAttempts = RETRY_DELAYS_MS.length + 1,
): Promise<keyof DeliveryReport | null> {
  const { delivery, channel } = pending;
  const claimed = db
    .update(alertDeliveries)
    .set({ claimedUntil: new Date(now() + CLAIM_MS) })
    .where(
      and(
        eq(alertDeliveries.id, delivery.id),
        eq(alertDeliveries.status, "pending"),
        or(isNull(alertDeliveries.claimedUntil), lt(alertDeliveries.claimedUntil, new Date(now()))),
      ),
    )
    .run();
  if (claimed.changes === 0) return null;
  let error: string | null;
  try {
    error = await send(db, pending, options, now());
  } catch (thrown) {
    error = `unexpected: ${describeError(thrown)}`;
  }
  const attempts = delivery.attempts + 1;
  const at = new Date(now());
  const outcome: keyof DeliveryReport = error === null ? "delivered" : attempts >= maxAttempts ? "failed" : "retrying";
  db.transaction((tx) => {
    tx.update(alertDeliveries)
      .set({
        attempts,
        claimedUntil: null,
        lastError: error,
        status: outcome === "retrying" ? "pending" : outcome,
        deliveredAt: error === null ? at : null,
        nextAttemptAt: outcome === "retrying" ? new Date(at.getTime() + RETRY_DELAYS_MS[attempts - 1]!) : at,
      })
      .where(eq(alertDeliveries.id, delivery.id))
      .run();
    tx.update(alertChannels)
      .set({ lastDeliveryAt: at, lastDeliveryOk: error === null, lastError: error })
      .where(eq(alertChannels.id, channel.id))
      .run();
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
  const sender = senderId ? db.select().from(mailboxes).where(eq(mailboxes.id, senderId)).get() : undefined;
  if (!sender) return "The sending mailbox no longer exists: choose another on the tenant page.";
  const settings = checkSettingsFor(sender);
  // The sender's own cool-down applies: alerts never lock its Microsoft account either.
  if (credentialCooldown(db, sender.id, credentialFingerprint(settings))) {
    return `The sending mailbox ${sender.name} is cooling down after Microsoft refused its sign-in.`;
  }
  const sent = await sendMailAs(settings, checkOptionsFor(settings, { db, mailbox: sender }), {
    to: channel.recipients ?? [],
    subject: `[Navigator Mail] ${alert.title}`,
    text: `${alert.title}\nTenant: ${tenant.name}\n\n${alert.detail}\n${link ? `\n${link}\n` : ""}`,
  });
  return sent.ok ? null : `${sent.diagnosis.code}: ${sent.diagnosis.cause}`;
}

/** "Send test alert": one alert of kind test to this channel only, sent now; the outcome in words. */
export async function sendTestAlert(
  db: Db,
  actor: UserActor,
  tenantId: number,
  channelId: number,
  options: DeliveryOptions = {},
): Promise<{ ok: boolean; error: string | null }> {
  const channel = getAlertChannelFor(db, actor, tenantId, channelId);
  const at = new Date((options.now ?? Date.now)());
  const pending = db.transaction((tx) => {
    const alert = tx
      .insert(alerts)
      .values({ tenantId, kind: "test", state: "ok", ...TEST_WORDS, createdAt: at })
      .returning()
      .get();
    queueDeliveries(tx, alert, at, [channel.id]);
    const delivery = tx.select().from(alertDeliveries).where(eq(alertDeliveries.alertId, alert.id)).get()!;
    const tenant = tx
      .select({ slug: tenants.slug, name: tenants.name })
      .from(tenants)
      .where(eq(tenants.id, tenantId))
      .get()!;
    return { delivery, alert, channel, tenant };
  });
  // A test alert is tried once, so the administrator sees the answer at once.
  await deliverOne(db, pending, options, options.now ?? Date.now, 1);
  const done = db.select().from(alertDeliveries).where(eq(alertDeliveries.id, pending.delivery.id)).get()!;
  return { ok: done.status === "delivered", error: done.lastError };
}

export type AlertRow = Alert & {
  tenantSlug: string;
  tenantName: string;
  deliveries: (Pick<AlertDelivery, "status" | "attempts" | "lastError" | "deliveredAt" | "nextAttemptAt"> & {
    channelName: string;
  })[];
};

/** The alert history the actor may see, newest first, a page at a time, each with its deliveries. */
export function listAlerts(
  db: Db,
  actor: Actor,
  query: { q?: string; tenant?: string; page?: number },
): { rows: AlertRow[]; page: number; hasMore: boolean } {
  const scope: SQL[] = [];
  if (query.tenant) scope.push(eq(tenants.slug, query.tenant));
  if (actor.kind !== "system" && !isSuperAdmin(actor)) scope.push(eq(alerts.tenantId, actor.tenantId ?? -1));
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    scope.push(
      sql`(lower(${alerts.title}) LIKE ${like} ESCAPE '\\' OR lower(${tenants.name}) LIKE ${like} ESCAPE '\\')`,
    );
  }
  const page = Math.max(1, query.page ?? 1);
  const listed = db
    .select({ alert: alerts, tenantSlug: tenants.slug, tenantName: tenants.name })
    .from(alerts)
    .innerJoin(tenants, eq(tenants.id, alerts.tenantId))
    .where(scope.length > 0 ? and(...scope) : undefined)
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(PAGE_SIZE + 1)
    .offset((page - 1) * PAGE_SIZE)
    .all();
  const ids = listed.slice(0, PAGE_SIZE).map((r) => r.alert.id);
  const deliveries =
    ids.length === 0
      ? []
      : db
          .select({
            alertId: alertDeliveries.alertId,
            status: alertDeliveries.status,
            attempts: alertDeliveries.attempts,
            lastError: alertDeliveries.lastError,
            deliveredAt: alertDeliveries.deliveredAt,
            nextAttemptAt: alertDeliveries.nextAttemptAt,
            channelName: alertChannels.name,
          })
          .from(alertDeliveries)
          .innerJoin(alertChannels, eq(alertChannels.id, alertDeliveries.channelId))
          .where(inArray(alertDeliveries.alertId, ids))
          .all();
  const rows = listed.slice(0, PAGE_SIZE).map(({ alert, tenantSlug, tenantName }) => ({
    ...alert,
    tenantSlug,
    tenantName,
    deliveries: deliveries.filter((d) => d.alertId === alert.id),
  }));
  return { rows, page, hasMore: listed.length > PAGE_SIZE };
}
