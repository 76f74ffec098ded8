import "server-only";
import { and, count, eq, gte, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { mailboxes, mailboxTests, tenants } from "@/db/schema";
import { type Actor, isSuperAdmin } from "@/lib/auth/actor";
import type { SignInMethod } from "@/lib/engine/settings";
import { containsPattern, PAGE_SIZE, pageWindow } from "@/lib/paging";
import { AWAITING_SIGN_IN, SIGN_IN_LOST } from "./sign-in-state";

/** Where a mailbox stands, worst first. */
export const MAILBOX_STATES = [
  "needs-sign-in",
  "failing",
  "expiring",
  "stale",
  "awaiting-sign-in",
  "never-tested",
  "healthy",
] as const;
export type MailboxState = (typeof MAILBOX_STATES)[number];

export const STATE_LABELS: Record<MailboxState, string> = {
  "needs-sign-in": "Needs sign-in",
  "awaiting-sign-in": "Awaiting sign-in",
  failing: "Failing",
  expiring: "Credential expiring",
  stale: "Stale",
  "never-tested": "Never tested",
  healthy: "Healthy",
};

const DAY = 86_400_000;
/** A secret or certificate expiring this soon counts as a problem. */
const EXPIRY_WARNING_DAYS = 30;
/** No test for this long (a daily test and some slack) counts as stale. */
const STALE_AFTER_MS = 26 * 3_600_000;
const TIMELINE_DAYS = 30;

export type StatusRow = {
  id: number;
  name: string;
  login: string;
  signInMethod: SignInMethod;
  tenantSlug: string;
  tenantName: string;
  state: MailboxState;
  healthSince: Date | null;
  lastTestAt: Date | null;
  lastFailureCode: string | null;
  /** The oldest TLS version the last test negotiated. */
  lastTlsVersion: string | null;
  credentialExpiresAt: Date | null;
  /** Tests per day of the last 30 days, oldest first. */
  days: { passed: number; failed: number; meanMs: number }[];
};

export type StatusPage = {
  counts: Record<MailboxState, number>;
  rows: StatusRow[];
  total: number;
  page: number;
  pages: number;
};

/** The state as SQL, so the page can count, filter and sort by it without loading every mailbox. */
function stateSql(now: number): SQL<MailboxState> {
  return sql<MailboxState>`CASE
    WHEN ${SIGN_IN_LOST} THEN 'needs-sign-in'
    WHEN ${AWAITING_SIGN_IN} THEN 'awaiting-sign-in'
    WHEN ${mailboxes.health} = 'failing' THEN 'failing'
    WHEN ${mailboxes.appCredentialExpiresAt} IS NOT NULL AND ${mailboxes.appCredentialExpiresAt} < ${now + EXPIRY_WARNING_DAYS * DAY} THEN 'expiring'
    WHEN ${mailboxes.lastTestAt} IS NULL THEN 'never-tested'
    WHEN ${mailboxes.lastTestAt} < ${now - STALE_AFTER_MS} THEN 'stale'
    ELSE 'healthy' END`;
}

const RANK = sql.raw(`CASE state ${MAILBOX_STATES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(" ")} END`);

/**
 * The status page: every mailbox the actor may see, with its state, counts per state, a filter, a
 * search over name, login and tenant, worst first and a page at a time.
 */
export async function statusPage(
  db: Db,
  actor: Actor,
  query: { state?: MailboxState; q?: string; page?: number },
  now = Date.now(),
): Promise<StatusPage> {
  const state = stateSql(now);
  const scope: SQL[] = [];
  if (actor.kind !== "system" && !isSuperAdmin(actor)) scope.push(eq(mailboxes.tenantId, actor.tenantId ?? -1));
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    scope.push(
      sql`(lower(${mailboxes.name}) LIKE ${like} ESCAPE '\\' OR lower(${mailboxes.login}) LIKE ${like} ESCAPE '\\' OR lower(${tenants.name}) LIKE ${like} ESCAPE '\\')`,
    );
  }
  const base = db
    .select({
      id: mailboxes.id,
      name: mailboxes.name,
      login: mailboxes.login,
      signInMethod: mailboxes.signInMethod,
      tenantSlug: tenants.slug,
      // Aliased: the subquery's columns are read back by name, and the mailbox has a "name" too.
      tenantName: sql<string>`${tenants.name}`.as("tenant_name"),
      state: state.as("state"),
      healthSince: mailboxes.healthSince,
      lastTestAt: mailboxes.lastTestAt,
      lastFailureCode: mailboxes.lastFailureCode,
      lastTlsVersion: mailboxes.lastTlsVersion,
      credentialExpiresAt: mailboxes.appCredentialExpiresAt,
    })
    .from(mailboxes)
    .innerJoin(tenants, eq(mailboxes.tenantId, tenants.id))
    .where(scope.length > 0 ? and(...scope) : undefined)
    .as("listed");

  const counts = Object.fromEntries(MAILBOX_STATES.map((s) => [s, 0])) as Record<MailboxState, number>;
  for (const row of await db.select({ state: sql<MailboxState>`state`, n: count() }).from(base).groupBy(sql`state`)) {
    counts[row.state] = row.n;
  }
  const total = query.state ? counts[query.state] : Object.values(counts).reduce((a, b) => a + b, 0);
  const { page, pages, offset } = pageWindow(total, query.page);
  const listed = await db
    .select()
    .from(base)
    .where(query.state ? sql`state = ${query.state}` : undefined)
    .orderBy(RANK, sql`coalesce(${base.healthSince}, 0)`, base.name)
    .limit(PAGE_SIZE)
    .offset(offset);
  const days = await timelines(
    db,
    listed.map((r) => r.id),
    now,
  );
  const rows = listed.map((row) => ({
    ...row,
    healthSince: toDate(row.healthSince),
    lastTestAt: toDate(row.lastTestAt),
    credentialExpiresAt: toDate(row.credentialExpiresAt),
    days: days.get(row.id) ?? emptyDays(),
  }));
  return { counts, rows, total, page, pages };
}

/** Tests per mailbox and day over the last 30 days: passed, failed and their mean duration. */
async function timelines(db: Db, ids: number[], now: number): Promise<Map<number, StatusRow["days"]>> {
  const byMailbox = new Map<number, StatusRow["days"]>();
  if (ids.length === 0) return byMailbox;
  const start = startOfDay(now) - (TIMELINE_DAYS - 1) * DAY;
  // Constants in the text, not parameters: the grouping must repeat the selected expression exactly.
  const day = sql<number>`CAST((${mailboxTests.startedAt} - ${sql.raw(String(start))}) / ${sql.raw(String(DAY))} AS INTEGER)`;
  const rows = await db
    .select({
      mailboxId: mailboxTests.mailboxId,
      day,
      passed: sql<number>`count(*) FILTER (WHERE ${mailboxTests.outcome} = 'passed')`.mapWith(Number),
      failed: sql<number>`count(*) FILTER (WHERE ${mailboxTests.outcome} = 'failed')`.mapWith(Number),
      meanMs: sql<number | null>`avg(${mailboxTests.finishedAt} - ${mailboxTests.startedAt})`.mapWith(Number),
    })
    .from(mailboxTests)
    .where(and(inArray(mailboxTests.mailboxId, ids), gte(mailboxTests.startedAt, new Date(start))))
    .groupBy(mailboxTests.mailboxId, day);
  for (const row of rows) {
    const days = byMailbox.get(row.mailboxId) ?? emptyDays();
    const slot = days[row.day];
    if (slot) Object.assign(slot, { passed: row.passed, failed: row.failed, meanMs: row.meanMs ?? 0 });
    byMailbox.set(row.mailboxId, days);
  }
  return byMailbox;
}

function emptyDays(): StatusRow["days"] {
  return Array.from({ length: TIMELINE_DAYS }, () => ({ passed: 0, failed: 0, meanMs: 0 }));
}

function startOfDay(ms: number): number {
  return ms - (ms % DAY);
}

function toDate(value: Date | number | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}
