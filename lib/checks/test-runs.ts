import "server-only";
import { createHmac } from "node:crypto";
import { and, desc, eq, gt, inArray, isNotNull, max } from "drizzle-orm";
import type { Db } from "@/db/client";
import { testRuns, type StepRecord, type TestRun } from "@/db/schema";
import { assertTenantAccess, type Actor } from "@/lib/auth/actor";
import { recordAudit } from "@/lib/audit/log";
import { getEnv } from "@/lib/env";
import { NotFoundError } from "@/lib/errors";
import type { CheckOutcome, CheckSettings } from "./types";
import { formatUtc } from "@/lib/format-time";

export const RATE_LIMIT = { perMailbox: 5, perUser: 5, windowMs: 60_000 };
export const CREDENTIAL_COOLDOWN_MS = 15 * 60_000;
// A run older than this that never finished was cut off (restart); it no longer blocks new runs.
const STALE_RUN_MS = 3 * 60_000;
/** Failures that more attempts with the same credentials could turn into a locked account. */
export const CREDENTIAL_FAILURES = ["AADSTS50126", "AADSTS50053", "AADSTS50055", "AADSTS50057", "AADSTS50076", "AADSTS50079", "SMTP_PASSWORD_REJECTED", "IMAP_PASSWORD_REJECTED"];

/** Keyed hash of the credentials: tells "same credentials as last time" without storing them. */
export function credentialFingerprint(settings: Pick<CheckSettings, "login" | "password" | "azureClientId" | "azureTenantId">): string {
  const text = [settings.login.toLowerCase(), settings.password ?? "", settings.azureClientId ?? "", settings.azureTenantId ?? ""].join("\n");
  return createHmac("sha256", getEnv().AUTH_SECRET).update(text).digest("hex");
}

/** Why a new run must not start now, in words for the administrator; null when it may. */
export function refusalFor(db: Db, actor: Actor, mailboxId: number, fingerprint: string, now = Date.now()): string | null {
  const recent = db.select().from(testRuns).where(and(eq(testRuns.mailboxId, mailboxId), gt(testRuns.startedAt, new Date(now - CREDENTIAL_COOLDOWN_MS)))).orderBy(desc(testRuns.startedAt)).all();
  if (recent.some((run) => run.outcome === "running" && run.startedAt.getTime() > now - STALE_RUN_MS)) return "A test of this mailbox is already running. Wait for it to finish.";
  const lastMinute = (runs: TestRun[]) => runs.filter((run) => run.startedAt.getTime() > now - RATE_LIMIT.windowMs);
  const mailboxRuns = lastMinute(recent);
  if (mailboxRuns.length >= RATE_LIMIT.perMailbox) return `This mailbox was tested ${mailboxRuns.length} times in the last minute. Try again in ${retryIn(mailboxRuns, now)} s.`;
  const userRuns = db.select().from(testRuns).where(and(eq(testRuns.triggeredById, actor.id), gt(testRuns.startedAt, new Date(now - RATE_LIMIT.windowMs)))).all();
  if (userRuns.length >= RATE_LIMIT.perUser) return `You started ${userRuns.length} tests in the last minute. Try again in ${retryIn(userRuns, now)} s.`;
  const lockout = recent.find((run) => run.credentialFingerprint === fingerprint && run.failureCode && CREDENTIAL_FAILURES.includes(run.failureCode));
  if (lockout) {
    const until = new Date(lockout.startedAt.getTime() + CREDENTIAL_COOLDOWN_MS);
    return `The test at ${hhmm(lockout.startedAt)} UTC failed with ${lockout.failureCode} (the sign-in itself was refused). To keep the account from being locked, the same Login and Password are not tried again until ${hhmm(until)} UTC. Correct the Login or Password to test now.`;
  }
  return null;
}

export function startRun(db: Db, actor: Actor, settings: { mailboxId: number; tenantId: number }, source: "saved" | "form", fingerprint: string): TestRun {
  return db
    .insert(testRuns)
    .values({ mailboxId: settings.mailboxId, tenantId: settings.tenantId, startedAt: new Date(), outcome: "running", source, triggeredBy: actor.email, triggeredById: actor.id, steps: [], credentialFingerprint: fingerprint })
    .returning()
    .get();
}

export function finishRun(db: Db, actor: Actor, run: TestRun, mailboxName: string, outcome: CheckOutcome): TestRun {
  const failed = outcome.steps.find((s) => s.status === "failed");
  const arrivalMs = outcome.steps.find((s) => s.name === "imap")?.metrics?.arrivalMs;
  return db.transaction((tx) => {
    const finished = tx
      .update(testRuns)
      .set({ finishedAt: new Date(), outcome: outcome.ok ? "passed" : "failed", steps: outcome.steps as StepRecord[], failureCode: failed?.diagnosis?.code ?? null, arrivalMs: arrivalMs ?? null })
      .where(eq(testRuns.id, run.id))
      .returning()
      .get();
    recordAudit(tx, actor, {
      tenantId: run.tenantId,
      action: "mailbox.test",
      targetType: "mailbox",
      targetId: run.mailboxId,
      targetLabel: mailboxName,
      changes: { outcome: { to: finished.outcome }, ...(failed ? { failure: { to: `${failed.name}: ${failed.diagnosis?.code}` } } : {}), source: { to: run.source } },
    });
    return finished;
  });
}

export function listRunsFor(db: Db, actor: Actor, tenantId: number, mailboxId: number, limit = 50): TestRun[] {
  assertTenantAccess(actor, tenantId);
  return db.select().from(testRuns).where(and(eq(testRuns.tenantId, tenantId), eq(testRuns.mailboxId, mailboxId))).orderBy(desc(testRuns.id)).limit(limit).all();
}

export function getRunFor(db: Db, actor: Actor, tenantId: number, mailboxId: number, runId: number): TestRun {
  assertTenantAccess(actor, tenantId);
  const run = db.select().from(testRuns).where(and(eq(testRuns.id, runId), eq(testRuns.tenantId, tenantId), eq(testRuns.mailboxId, mailboxId))).get();
  if (!run) throw new NotFoundError();
  return run;
}

/** The latest finished run of each of the given mailboxes. */
export function lastRunsFor(db: Db, mailboxIds: number[]): Map<number, TestRun> {
  const latest = new Map<number, TestRun>();
  if (mailboxIds.length === 0) return latest;
  const ids = db
    .select({ id: max(testRuns.id) })
    .from(testRuns)
    .where(and(inArray(testRuns.mailboxId, mailboxIds), isNotNull(testRuns.finishedAt)))
    .groupBy(testRuns.mailboxId)
    .all()
    .map((row) => row.id!)
    .filter(Boolean);
  if (ids.length === 0) return latest;
  for (const run of db.select().from(testRuns).where(inArray(testRuns.id, ids)).all()) latest.set(run.mailboxId, run);
  return latest;
}

function retryIn(runs: TestRun[], now: number): number {
  const oldest = Math.min(...runs.map((r) => r.startedAt.getTime()));
  return Math.max(1, Math.ceil((oldest + RATE_LIMIT.windowMs - now) / 1000));
}

function hhmm(date: Date): string {
  return formatUtc(date).slice(11);
}
