import "server-only";
import { createHmac } from "node:crypto";
import { and, count, desc, eq, gt, isNotNull, sql } from "drizzle-orm";
import { preparedOnce, type Queryable } from "@/db/client";
import { type MailboxTest, mailboxTests } from "@/db/schema";
import { type Actor, actorUserId } from "@/lib/auth/actor";
import type { CheckSettings } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { formatUtc } from "@/lib/format-time";
import type { Refusal } from "./refusals";

/** What the limits read of a recent test. */
const RECENT_COLUMNS = {
  outcome: mailboxTests.outcome,
  startedAt: mailboxTests.startedAt,
  source: mailboxTests.source,
  failureCode: mailboxTests.failureCode,
  credentialFingerprint: mailboxTests.credentialFingerprint,
};
type RecentTest = Pick<MailboxTest, keyof typeof RECENT_COLUMNS>;

const RATE_LIMIT = { perMailbox: 5, perUser: 5, windowMs: 60_000 };
const CREDENTIAL_COOLDOWN_MS = 15 * 60_000;
// A test older than this that never finished was cut off (restart); it no longer blocks new tests.
const STALE_TEST_MS = 3 * 60_000;
/** Failures that more attempts with the same credentials could turn into a locked account. */
export const CREDENTIAL_FAILURES = [
  "AADSTS50126",
  "AADSTS50053",
  "AADSTS50055",
  "AADSTS50057",
  "AADSTS50076",
  "AADSTS50079",
  "SMTP_PASSWORD_REJECTED",
  "IMAP_PASSWORD_REJECTED",
];

/** Keyed hash of the credentials: tells "same credentials as last time" without storing them. */
export function credentialFingerprint(
  settings: Pick<CheckSettings, "login" | "password" | "azureClientId" | "azureTenantId">,
): string {
  const text = [
    settings.login.toLowerCase(),
    settings.password ?? "",
    settings.azureClientId ?? "",
    settings.azureTenantId ?? "",
  ].join("\n");
  return createHmac("sha256", getEnv().AUTH_SECRET).update(text).digest("hex");
}

// A test holds connections and a Microsoft sign-in for seconds: caps keep one tenant from taking the portal.
const CAPACITY_RETRY_SECONDS = 5;

/** Why a new test must not start now; null when it may. Call inside the write transaction that records it. */
export async function refusalFor(
  db: Queryable,
  actor: Actor,
  owner: { mailboxId: number; tenantId: number },
  fingerprint: string,
  now = Date.now(),
): Promise<Refusal | null> {
  const { mailboxId } = owner;
  const recent = await recentTests(db, "mailboxId", mailboxId, now - CREDENTIAL_COOLDOWN_MS);
  if (recent.some((test) => test.outcome === "running" && test.startedAt.getTime() > now - STALE_TEST_MS)) {
    return { kind: "busy", message: "A test of this mailbox is already running. Wait for it to finish." };
  }
  const capacity = await capacityRefusal(db, owner.tenantId, now);
  if (capacity) return capacity;
  const mailboxTestsNow = lastMinute(recent, now);
  if (mailboxTestsNow.length >= RATE_LIMIT.perMailbox) {
    const retryAfterSeconds = retryIn(mailboxTestsNow, now);
    const message = `This mailbox was tested ${mailboxTestsNow.length} times in the last minute. Try again in ${retryAfterSeconds} s.`;
    return { kind: "rate_limited", message, retryAfterSeconds };
  }
  const userId = actorUserId(actor);
  if (userId !== null) {
    const userTests = await recentTests(db, "triggeredById", userId, now - RATE_LIMIT.windowMs);
    if (userTests.length >= RATE_LIMIT.perUser) {
      const retryAfterSeconds = retryIn(userTests, now);
      const message = `You started ${userTests.length} tests in the last minute. Try again in ${retryAfterSeconds} s.`;
      return { kind: "rate_limited", message, retryAfterSeconds };
    }
  }
  return cooldownFrom(recent, fingerprint, now);
}

/**
 * The credential cool-down alone, for callers that use the credentials without running a test (a
 * token for the API): after Microsoft refused these very credentials, they are not tried again for a while.
 */
export async function credentialCooldown(db: Queryable, mailboxId: number, fingerprint: string, now = Date.now()) {
  const recent = await preparedOnce(db, "recentFailuresOfMailbox", (q) =>
    q
      .select()
      .from(mailboxTests)
      .where(
        and(
          eq(mailboxTests.mailboxId, sql.placeholder("mailboxId")),
          gt(mailboxTests.startedAt, sql.placeholder("since")),
          isNotNull(mailboxTests.failureCode),
        ),
      )
      .orderBy(desc(mailboxTests.startedAt))
      .prepare(),
  ).execute({ mailboxId, since: now - CREDENTIAL_COOLDOWN_MS });
  return cooldownFrom(recent, fingerprint, now);
}

function cooldownFrom(recent: RecentTest[], fingerprint: string, now: number): Refusal | null {
  const lockout = recent.find(
    (test) =>
      test.credentialFingerprint === fingerprint && test.failureCode && CREDENTIAL_FAILURES.includes(test.failureCode),
  );
  if (!lockout) return null;
  const until = new Date(lockout.startedAt.getTime() + CREDENTIAL_COOLDOWN_MS);
  const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - now) / 1000));
  const what = lockout.source === "token" ? "The token request" : "The test";
  const message =
    `${what} at ${hhmm(lockout.startedAt)} UTC failed with ${lockout.failureCode} (the sign-in itself was refused). ` +
    `To keep the account from being locked, the same Login and Password are not tried again until ${hhmm(until)} UTC. ` +
    "Correct the Login or Password to test now.";
  return { kind: "cooldown", message, retryAfterSeconds };
}

/** Tests still running that started after the placeholder `since`. */
const RUNNING_SINCE = and(eq(mailboxTests.outcome, "running"), gt(mailboxTests.startedAt, sql.placeholder("since")));

/** The tests one mailbox or one user started after `since`, newest first. */
async function recentTests(
  db: Queryable,
  by: "mailboxId" | "triggeredById",
  id: number,
  since: number,
): Promise<RecentTest[]> {
  return await preparedOnce(db, `recentTestsBy:${by}`, (q) =>
    q
      .select(RECENT_COLUMNS)
      .from(mailboxTests)
      .where(and(eq(mailboxTests[by], sql.placeholder("id")), gt(mailboxTests.startedAt, sql.placeholder("since"))))
      .orderBy(desc(mailboxTests.startedAt))
      .prepare(),
  ).execute({ id, since });
}

async function capacityRefusal(db: Queryable, tenantId: number, now: number): Promise<Refusal | null> {
  const env = getEnv();
  const since = now - STALE_TEST_MS;
  const inTenant =
    (
      await preparedOnce(db, "runningTestsOfTenant", (q) =>
        q
          .select({ n: count() })
          .from(mailboxTests)
          .where(and(RUNNING_SINCE, eq(mailboxTests.tenantId, sql.placeholder("tenantId"))))
          .prepare(),
      ).execute({ since, tenantId })
    )[0]?.n ?? 0;
  if (inTenant >= env.MAX_TESTS_PER_TENANT) {
    const message = `This tenant already has ${inTenant} tests running, the most it may run at once. Try again in a few seconds.`;
    return { kind: "capacity", message, retryAfterSeconds: CAPACITY_RETRY_SECONDS };
  }
  const everywhere =
    (
      await preparedOnce(db, "runningTests", (q) =>
        q.select({ n: count() }).from(mailboxTests).where(RUNNING_SINCE).prepare(),
      ).execute({
        since,
      })
    )[0]?.n ?? 0;
  if (everywhere >= env.MAX_TESTS) {
    const message = "The portal is running as many tests as it may at once. Try again in a few seconds.";
    return { kind: "capacity", message, retryAfterSeconds: CAPACITY_RETRY_SECONDS };
  }
  return null;
}

function lastMinute(tests: RecentTest[], now: number): RecentTest[] {
  return tests.filter((test) => test.startedAt.getTime() > now - RATE_LIMIT.windowMs);
}

function retryIn(tests: RecentTest[], now: number): number {
  const oldest = Math.min(...tests.map((t) => t.startedAt.getTime()));
  return Math.max(1, Math.ceil((oldest + RATE_LIMIT.windowMs - now) / 1000));
}

function hhmm(date: Date): string {
  return formatUtc(date).slice(11);
}
