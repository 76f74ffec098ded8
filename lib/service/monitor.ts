import "server-only";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import pLimit from "p-limit";
import type { Db, Tx } from "@/db/client";
import { type MonitorFrequency, mailboxes, mailboxTests, tenants } from "@/db/schema";
import { SYSTEM_ACTORS } from "@/lib/auth/actor";
import { describeError } from "@/lib/errors";
import { evaluateAlerts } from "./alerts/evaluate";
import { CLAIMED_ELSEWHERE, startMailboxTest, testToEnd } from "./mailbox-tests";
import { AWAITING_SIGN_IN } from "./sign-in-state";
import { CREDENTIAL_FAILURES } from "./test-limits";

type MonitorMode = "light" | "full";

const MONITOR_INTERVAL_MS: Record<Exclude<MonitorFrequency, "off">, number> = {
  hourly: 3_600_000,
  daily: 86_400_000,
};

/** Failures a new attempt with the same settings cannot fix, and might make worse (a locked account). */
const HOLD_FAILURES = new Set([...CREDENTIAL_FAILURES, "SIGN_IN_AGAIN", "NOT_SIGNED_IN"]);

export type DueRun = {
  mailboxId: number;
  tenantId: number;
  mode: MonitorMode;
  lastAt: Date | null;
  /** The mode's own last run as read: a sweep claims the run by moving it, unless another did first. */
  claimFrom: Date | null;
};

/**
 * The scheduled tests due at `now`: a full test when its interval has passed, otherwise a light one
 * when its interval has passed since the last test of either kind (a full test signs in too). A
 * mailbox follows its tenant unless it has its own setting. Never-tested mailboxes come first.
 */
export async function dueRuns(db: Db, now: number): Promise<DueRun[]> {
  const rows = await db
    .select({
      mailboxId: mailboxes.id,
      tenantId: mailboxes.tenantId,
      light: mailboxes.monitorLight,
      full: mailboxes.monitorFull,
      lastLight: mailboxes.lastMonitorLightAt,
      lastFull: mailboxes.lastMonitorFullAt,
      tenantLight: tenants.monitorLight,
      tenantFull: tenants.monitorFull,
    })
    .from(mailboxes)
    .innerJoin(tenants, eq(mailboxes.tenantId, tenants.id))
    // Nobody has signed in yet: a test could only fail, and the mailbox is not broken.
    .where(sql`NOT ${AWAITING_SIGN_IN}`);
  const due: DueRun[] = [];
  for (const row of rows) {
    const full = row.full ?? row.tenantFull;
    const light = row.light ?? row.tenantLight;
    const lastFull = row.lastFull?.getTime() ?? null;
    const lastAny = Math.max(lastFull ?? 0, row.lastLight?.getTime() ?? 0) || null;
    if (full !== "off" && (lastFull === null || now - lastFull >= MONITOR_INTERVAL_MS[full])) {
      const lastAt = row.lastFull;
      due.push({ mailboxId: row.mailboxId, tenantId: row.tenantId, mode: "full", lastAt, claimFrom: lastAt });
    } else if (light !== "off" && (lastAny === null || now - lastAny >= MONITOR_INTERVAL_MS[light])) {
      const lastAt = lastAny === null ? null : new Date(lastAny);
      due.push({ mailboxId: row.mailboxId, tenantId: row.tenantId, mode: "light", lastAt, claimFrom: row.lastLight });
    }
  }
  return interleaveTenants(due.sort((a, b) => (a.lastAt?.getTime() ?? 0) - (b.lastAt?.getTime() ?? 0)));
}

/**
 * Takes one run of each tenant in turn (each tenant's in their order): a tenant may run only a few
 * tests at once (MAX_TESTS_PER_TENANT), so a sweep that started them tenant by tenant would have most
 * of its concurrency refused.
 */
function interleaveTenants(runs: DueRun[]): DueRun[] {
  const byTenant = new Map<number, DueRun[]>();
  for (const run of runs) {
    const queue = byTenant.get(run.tenantId) ?? [];
    queue.push(run);
    byTenant.set(run.tenantId, queue);
  }
  const queues = [...byTenant.values()];
  const interleaved: DueRun[] = [];
  for (let round = 0; interleaved.length < runs.length; round++) {
    for (const queue of queues) if (round < queue.length) interleaved.push(queue[round]!);
  }
  return interleaved;
}

/**
 * Whether the scheduler holds back: its own last test of the mailbox failed in a way that only a
 * change can fix (a refused password, a lost Microsoft sign-in), and nothing was saved or signed in
 * since. It never retries such a failure, so it never locks the Microsoft account.
 */
export async function heldBack(db: Db, mailboxId: number): Promise<boolean> {
  const last = (
    await db
      .select({ startedAt: mailboxTests.startedAt, failureCode: mailboxTests.failureCode })
      .from(mailboxTests)
      .where(and(eq(mailboxTests.mailboxId, mailboxId), eq(mailboxTests.triggeredBy, SYSTEM_ACTORS.scheduler.label)))
      .orderBy(desc(mailboxTests.startedAt))
  )[0];
  if (!last?.failureCode || !HOLD_FAILURES.has(last.failureCode)) return false;
  const mailbox = (
    await db
      .select({ updatedAt: mailboxes.updatedAt, signedInAt: mailboxes.signedInAt })
      .from(mailboxes)
      .where(eq(mailboxes.id, mailboxId))
  )[0];
  if (!mailbox) return true;
  const changed = Math.max(mailbox.updatedAt.getTime(), mailbox.signedInAt?.getTime() ?? 0);
  return changed <= last.startedAt.getTime();
}

/**
 * Claims a due run, in the transaction that records its start: its mode's last-run time moves to `at`
 * only if it is still what the sweep read. Any number of processes may sweep at once; each run is
 * claimed and started by exactly one of them.
 */
function claimOf(run: DueRun, at: Date) {
  return async (tx: Tx): Promise<boolean> => {
    const column = run.mode === "full" ? mailboxes.lastMonitorFullAt : mailboxes.lastMonitorLightAt;
    const set = run.mode === "full" ? { lastMonitorFullAt: at } : { lastMonitorLightAt: at };
    const from = run.claimFrom === null ? isNull(column) : eq(column, run.claimFrom);
    const moved = await tx
      .update(mailboxes)
      .set(set)
      .where(and(eq(mailboxes.id, run.mailboxId), from))
      .returning({ id: mailboxes.id });
    return moved.length === 1;
  };
}

export type SweepReport = {
  due: number;
  /** Claimed first by another process sweeping at the same time. */
  elsewhere: number;
  held: number;
  passed: number;
  failed: number;
  /** Refused for now (capacity, a running test, a cool-down): tried again at the next sweep. */
  deferred: number;
  /** Alerts raised after the tests: state changes and reminders. */
  alerts: number;
};

export type SweepOptions = {
  concurrency: number;
  now?: () => number;
};

/**
 * One sweep: every due test runs through the same service as the button, as the system actor
 * "scheduler", at most `concurrency` at once. Each run is claimed in the transaction that records its
 * start, so several portal processes sweeping together test each due mailbox once; a process that
 * stops mid-sweep leaves the runs it had not started to the others' next sweep.
 */
export async function runSweep(db: Db, options: SweepOptions): Promise<SweepReport> {
  const now = options.now ?? Date.now;
  const report: SweepReport = { due: 0, elsewhere: 0, held: 0, passed: 0, failed: 0, deferred: 0, alerts: 0 };
  const due = await dueRuns(db, now());
  report.due = due.length;
  const limit = pLimit(options.concurrency);
  await Promise.all(
    due.map((run) =>
      limit(async () => {
        if (await heldBack(db, run.mailboxId)) {
          report.held++;
          return;
        }
        const outcome = await runOne(db, run, new Date(now()));
        report[outcome]++;
      }),
    ),
  );
  // Every mailbox, tested now or not: an expiring credential or a lost sign-in needs no test to alert.
  report.alerts = await evaluateAlerts(db, now());
  return report;
}

async function runOne(db: Db, run: DueRun, at: Date): Promise<"passed" | "failed" | "deferred" | "elsewhere"> {
  try {
    const started = await startMailboxTest(db, SYSTEM_ACTORS.scheduler, {
      tenantId: run.tenantId,
      mailboxId: run.mailboxId,
      source: "saved",
      mode: run.mode,
      claim: claimOf(run, at),
    });
    if (!started.ok) return started.refusal === CLAIMED_ELSEWHERE ? "elsewhere" : "deferred";
    const result = await testToEnd(started, { id: run.mailboxId, name: "", tenant: "" });
    return result.ok ? "passed" : "failed";
  } catch (error) {
    console.error("scheduled test failed unexpectedly:", describeError(error));
    return "failed";
  }
}
