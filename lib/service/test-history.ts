import "server-only";
import { and, count, desc, eq, inArray, isNotNull, max, sql } from "drizzle-orm";
import { type Db, preparedOnce, type Queryable, transaction } from "@/db/client";
import { type MailboxTest, mailboxes, mailboxTests } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { type Actor, actorLabel, actorUserId, assertTenantAccess } from "@/lib/auth/actor";
import type { CheckOutcome, StepResult } from "@/lib/engine/steps";
import { NotFoundError } from "@/lib/errors";
import { containsPattern, PAGE_SIZE, pageWindow } from "@/lib/paging";

export type TestSource = MailboxTest["source"];

export async function recordTestStart(
  db: Queryable,
  actor: Actor,
  owner: { mailboxId: number; tenantId: number },
  source: TestSource,
  fingerprint: string,
  mode: MailboxTest["mode"] = "full",
): Promise<MailboxTest> {
  const insert = preparedOnce(db, "recordTestStart", (q) =>
    q
      .insert(mailboxTests)
      .values({
        mailboxId: sql.placeholder("mailboxId"),
        tenantId: sql.placeholder("tenantId"),
        startedAt: sql.placeholder("startedAt"),
        outcome: "running",
        source: sql.placeholder("source"),
        mode: sql.placeholder("mode"),
        triggeredBy: sql.placeholder("triggeredBy"),
        triggeredById: sql.placeholder("triggeredById"),
        steps: sql.placeholder("steps"),
        credentialFingerprint: sql.placeholder("fingerprint"),
      })
      .returning()
      .prepare(),
  );
  return (
    await insert.execute({
      mailboxId: owner.mailboxId,
      tenantId: owner.tenantId,
      startedAt: new Date(),
      source,
      mode,
      triggeredBy: actorLabel(actor),
      triggeredById: actorUserId(actor),
      steps: [],
      fingerprint,
    })
  )[0]!;
}

export async function recordTestEnd(
  db: Db,
  actor: Actor,
  test: MailboxTest,
  mailboxName: string,
  outcome: CheckOutcome,
): Promise<MailboxTest> {
  const failed = outcome.steps.find((s) => s.status === "failed");
  const arrivalMs = outcome.steps.find((s) => s.metrics?.arrivalMs !== undefined)?.metrics?.arrivalMs;
  return transaction(db, async (tx) => {
    const finished = (
      await tx
        .update(mailboxTests)
        .set({
          finishedAt: new Date(),
          outcome: outcome.ok ? "passed" : "failed",
          steps: outcome.steps,
          failureCode: failed?.diagnosis?.code ?? null,
          arrivalMs: arrivalMs ?? null,
        })
        .where(eq(mailboxTests.id, test.id))
        .returning()
    )[0]!;
    // The saved settings' health: what the status page and the alerts go by.
    if (test.source === "saved") await noteHealth(tx, test.mailboxId, finished);
    await recordAudit(tx, actor, {
      tenantId: test.tenantId,
      action: "mailbox.test",
      targetType: "mailbox",
      targetId: test.mailboxId,
      targetLabel: mailboxName,
      changes: {
        outcome: { to: finished.outcome },
        ...(failed ? { failure: { to: `${failed.name}: ${failed.diagnosis?.code}` } } : {}),
        source: { to: test.source },
      },
    });
    return finished;
  });
}

/**
 * A mailbox's tests, newest first, a page at a time: every outcome or one of them, and `who`
 * searching who started them ("scheduler", an admin's email, an API key's name).
 */
export async function listTestsPage(
  db: Db,
  actor: Actor,
  mailbox: { tenantId: number; mailboxId: number },
  query: { outcome?: "passed" | "failed"; who?: string; page?: number },
): Promise<{ rows: MailboxTest[]; total: number; page: number; pages: number }> {
  assertTenantAccess(actor, mailbox.tenantId);
  const where = [eq(mailboxTests.mailboxId, mailbox.mailboxId), eq(mailboxTests.tenantId, mailbox.tenantId)];
  if (query.outcome) where.push(eq(mailboxTests.outcome, query.outcome));
  const who = query.who?.trim();
  if (who) where.push(sql`lower(${mailboxTests.triggeredBy}) LIKE ${containsPattern(who)} ESCAPE '\\'`);
  const total =
    (
      await db
        .select({ n: count() })
        .from(mailboxTests)
        .where(and(...where))
    )[0]?.n ?? 0;
  const window = pageWindow(total, query.page);
  const rows = await db
    .select()
    .from(mailboxTests)
    .where(and(...where))
    .orderBy(desc(mailboxTests.startedAt), desc(mailboxTests.id))
    .limit(PAGE_SIZE)
    .offset(window.offset);
  return { rows, total, page: window.page, pages: window.pages };
}

export async function getTestFor(
  db: Db,
  actor: Actor,
  tenantId: number,
  mailboxId: number,
  testId: number,
): Promise<MailboxTest> {
  assertTenantAccess(actor, tenantId);
  const test = (
    await db
      .select()
      .from(mailboxTests)
      .where(
        and(eq(mailboxTests.id, testId), eq(mailboxTests.tenantId, tenantId), eq(mailboxTests.mailboxId, mailboxId)),
      )
  )[0];
  if (!test) throw new NotFoundError();
  return test;
}

/** The latest finished test of each of the given mailboxes. */
export async function lastTestsFor(db: Db, mailboxIds: number[]): Promise<Map<number, MailboxTest>> {
  const latest = new Map<number, MailboxTest>();
  if (mailboxIds.length === 0) return latest;
  const ids = (
    await db
      .select({ id: max(mailboxTests.id) })
      .from(mailboxTests)
      .where(and(inArray(mailboxTests.mailboxId, mailboxIds), isNotNull(mailboxTests.finishedAt)))
      .groupBy(mailboxTests.mailboxId)
  ).flatMap((row) => (row.id ? [row.id] : []));
  if (ids.length === 0) return latest;
  for (const test of await db.select().from(mailboxTests).where(inArray(mailboxTests.id, ids)))
    latest.set(test.mailboxId, test);
  return latest;
}

/** The mailbox's health after a test of its saved settings; `healthSince` moves only when it changes. */
async function noteHealth(tx: Queryable, mailboxId: number, test: MailboxTest): Promise<void> {
  const health = test.outcome === "passed" ? "healthy" : "failing";
  const at = test.finishedAt ?? new Date();
  await tx
    .update(mailboxes)
    .set({
      health,
      healthSince: sql`CASE WHEN ${mailboxes.health} = ${health} THEN ${mailboxes.healthSince} ELSE ${at.getTime()} END`,
      lastTestAt: at,
      lastFailureCode: test.failureCode,
      lastTlsVersion: oldestTls(test.steps),
    })
    .where(eq(mailboxes.id, mailboxId));
}

/** The oldest TLS version among a test's connections (TLSv1.2 sorts before TLSv1.3); null when none used TLS. */
function oldestTls(steps: StepResult[]): string | null {
  const versions = steps.flatMap((s) => (s.tls ? [s.tls.version] : [])).sort();
  return versions[0] ?? null;
}
