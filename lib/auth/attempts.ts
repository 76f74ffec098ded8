import "server-only";
import { and, desc, eq, gt, lt } from "drizzle-orm";
import { type Db, transaction } from "@/db/client";
import { signInAttempts } from "@/db/schema";

/** Failures of one email from one client address that lock that pair. */
export const MAX_FAILURES = 10;
/** Failures of one email from all addresses together that lock the email everywhere. */
export const MAX_EMAIL_FAILURES = 100;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const KEEP_MS = 24 * 60 * 60 * 1000;

export type Reservation = { ok: true; id: number } | { ok: false; retryAfterMs: number };

/**
 * Counts the failures and reserves this attempt as one more, in one write transaction, before any
 * password is hashed: a burst of parallel attempts sees its own reservations and stops at the limit.
 * The caller settles the reservation once the password was checked.
 */
export async function reserveAttempt(db: Db, email: string, client: string, now = Date.now()): Promise<Reservation> {
  return transaction(db, async (tx) => {
    const recent = await tx
      .select()
      .from(signInAttempts)
      .where(and(eq(signInAttempts.email, email), gt(signInAttempts.at, new Date(now - FAILURE_WINDOW_MS))))
      .orderBy(desc(signInAttempts.at), desc(signInAttempts.id));
    const fromClient = recent.filter((attempt) => attempt.client === client);
    const wait = Math.max(lockedFor(fromClient, MAX_FAILURES, now), lockedFor(recent, MAX_EMAIL_FAILURES, now));
    if (wait > 0) return { ok: false as const, retryAfterMs: wait };
    await tx.delete(signInAttempts).where(lt(signInAttempts.at, new Date(now - KEEP_MS)));
    const row = (
      await tx
        .insert(signInAttempts)
        .values({ email, client, at: new Date(now), succeeded: false })
        .returning()
    )[0]!;
    return { ok: true as const, id: row.id };
  });
}

/** An attempt that was never decided (the portal was too busy to check the password) does not count. */
export async function releaseAttempt(db: Db, reservation: { id: number }): Promise<void> {
  await db.delete(signInAttempts).where(eq(signInAttempts.id, reservation.id));
}

/** A correct password clears the failures before it; a wrong one stays counted. */
export async function settleAttempt(db: Db, reservation: { id: number }, succeeded: boolean): Promise<void> {
  if (succeeded) await db.update(signInAttempts).set({ succeeded: true }).where(eq(signInAttempts.id, reservation.id));
}

export function lockoutMessage(retryAfterMs: number): string {
  const minutes = Math.ceil(retryAfterMs / 60_000);
  return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

/** Failures since the last success (newest first); the limit-th one locks until it ages out of the window. */
function lockedFor(attempts: { at: Date; succeeded: boolean }[], limit: number, now: number): number {
  const failures: number[] = [];
  for (const attempt of attempts) {
    if (attempt.succeeded) break;
    failures.push(attempt.at.getTime());
  }
  if (failures.length < limit) return 0;
  return Math.max(0, failures[limit - 1]! + FAILURE_WINDOW_MS - now);
}
