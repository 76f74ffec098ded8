import "server-only";
import { and, desc, eq, gt, lt } from "drizzle-orm";
import type { Db } from "@/db/client";
import { signInAttempts, type User, users } from "@/db/schema";
import { dummyPasswordHash, verifyPassword } from "./password";

export const MAX_FAILURES = 10;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;

export const SIGN_IN_MESSAGES = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an administrator to enable it.",
} as const;

export type SignInResult = { ok: true; user: User } | { ok: false; message: string };

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function signInWithPassword(
  db: Db,
  emailInput: string,
  password: string,
  now = Date.now(),
): Promise<SignInResult> {
  const email = normalizeEmail(emailInput);
  const lockedFor = lockoutRemainingMs(db, email, now);
  if (lockedFor > 0) {
    const minutes = Math.ceil(lockedFor / 60_000);
    return {
      ok: false,
      message: `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    };
  }
  const user = email ? db.select().from(users).where(eq(users.email, email)).get() : undefined;
  const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !valid) {
    recordAttempt(db, email, false, now);
    return { ok: false, message: SIGN_IN_MESSAGES.invalid };
  }
  if (user.disabled) return { ok: false, message: SIGN_IN_MESSAGES.disabled };
  recordAttempt(db, email, true, now);
  return { ok: true, user };
}

/** Failures since the last success within the window; the tenth locks until the oldest one ages out. */
function lockoutRemainingMs(db: Db, email: string, now: number): number {
  const recent = db
    .select()
    .from(signInAttempts)
    .where(and(eq(signInAttempts.email, email), gt(signInAttempts.at, new Date(now - FAILURE_WINDOW_MS))))
    .orderBy(desc(signInAttempts.at), desc(signInAttempts.id))
    .all();
  const failures: number[] = [];
  for (const attempt of recent) {
    if (attempt.succeeded) break;
    failures.push(attempt.at.getTime());
  }
  if (failures.length < MAX_FAILURES) return 0;
  const oldestCounted = failures[MAX_FAILURES - 1]!;
  return Math.max(0, oldestCounted + FAILURE_WINDOW_MS - now);
}

function recordAttempt(db: Db, email: string, succeeded: boolean, now: number): void {
  db.transaction((tx) => {
    tx.insert(signInAttempts)
      .values({ email, at: new Date(now), succeeded })
      .run();
    tx.delete(signInAttempts)
      .where(lt(signInAttempts.at, new Date(now - 24 * 60 * 60 * 1000)))
      .run();
  });
}
