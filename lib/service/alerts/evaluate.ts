import "server-only";
import { and, eq, inArray, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import { type Db, type Tx, transaction } from "@/db/client";
import {
  type Alert,
  type AlertKind,
  type AlertState,
  alertChannels,
  alertDeliveries,
  alerts,
  mailboxes,
} from "@/db/schema";
import { getEnv } from "@/lib/env";
import { AWAITING_SIGN_IN, SIGN_IN_LOST } from "../sign-in-state";
import { alertWords, codeOf, DAY, type Subject } from "./words";

/** A secret or certificate expiring this soon raises an alert. */
const EXPIRY_ALERT_DAYS = 14;
/** While a mailbox stays broken, a reminder goes out this long after the last alert. */
export const REMINDER_MS = DAY;

/** The alert state as SQL: the same order of precedence as the status page, with the 14-day expiry. */
function alertStateSql(now: number): SQL<AlertState> {
  const awaitingSince = now - getEnv().AWAITING_SIGN_IN_ALERT_HOURS * 3_600_000;
  return sql<AlertState>`CASE
    WHEN ${SIGN_IN_LOST} THEN 'needs-sign-in'
    WHEN ${AWAITING_SIGN_IN} THEN CASE WHEN ${mailboxes.updatedAt} <= ${awaitingSince} THEN 'awaiting-sign-in' ELSE 'ok' END
    WHEN ${mailboxes.health} = 'failing' THEN 'failing'
    WHEN ${mailboxes.appCredentialExpiresAt} IS NOT NULL AND ${mailboxes.appCredentialExpiresAt} < ${now + EXPIRY_ALERT_DAYS * DAY} THEN 'expiring'
    ELSE 'ok' END`;
}

/**
 * Compares every mailbox's state with the one last alerted about: a change raises an alert (a
 * mailbox never alerted about that is fine raises none), and a mailbox that stays broken gets a
 * reminder every 24 h. The alert and its deliveries to each of the tenant's channels are written in
 * one transaction with the new state, so a state change is alerted exactly once.
 */
export async function evaluateAlerts(db: Db, now = Date.now(), mailboxId?: number): Promise<number> {
  const state = alertStateSql(now);
  const subjects = (await db
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
      updatedAt: mailboxes.updatedAt,
    })
    .from(mailboxes)
    .where(
      and(
        mailboxId === undefined ? undefined : eq(mailboxes.id, mailboxId),
        or(
          sql`${state} <> coalesce(${mailboxes.alertState}, 'ok')`,
          and(
            // Awaiting sign-in is reminded of once, when it has waited too long: never again after.
            sql`${state} NOT IN ('ok', 'awaiting-sign-in')`,
            or(isNull(mailboxes.lastAlertAt), lte(mailboxes.lastAlertAt, new Date(now - REMINDER_MS))),
          ),
        ),
      ),
    )) as Subject[];
  let raised = 0;
  for (const subject of subjects) {
    if (await raiseAlert(db, subject, now)) raised++;
  }
  return raised;
}

async function raiseAlert(db: Db, subject: Subject, now: number): Promise<boolean> {
  const previous = subject.previous ?? "ok";
  const kind: Exclude<AlertKind, "test"> =
    subject.state === previous ? "reminder" : subject.state === "ok" ? "recovered" : subject.state;
  const words = alertWords(kind, subject, now);
  const at = new Date(now);
  return transaction(db, async (tx) => {
    // Only if nobody moved the state meanwhile (another process, an earlier evaluation).
    const moved = await tx
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
          // A reminder too is sent once: not when another evaluation sent it a moment ago.
          subject.lastAlertAt === null ? isNull(mailboxes.lastAlertAt) : eq(mailboxes.lastAlertAt, subject.lastAlertAt),
        ),
      )
      // The rows written, in words every driver answers the same.
      .returning({ id: mailboxes.id });
    if (moved.length === 0) return false;
    const alert = (
      await tx
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
    )[0]!;
    await queueDeliveries(tx, alert, at);
    return true;
  });
}

export async function queueDeliveries(tx: Tx, alert: Alert, at: Date, channelIds?: number[]): Promise<void> {
  const channels = await tx
    .select({ id: alertChannels.id })
    .from(alertChannels)
    .where(
      and(eq(alertChannels.tenantId, alert.tenantId), channelIds ? inArray(alertChannels.id, channelIds) : undefined),
    );
  if (channels.length === 0) return;
  await tx
    .insert(alertDeliveries)
    .values(
      channels.map((c) => ({ alertId: alert.id, channelId: c.id, status: "pending" as const, nextAttemptAt: at })),
    );
}
