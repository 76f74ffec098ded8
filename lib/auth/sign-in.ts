import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type User, users } from "@/db/schema";
import { lockoutMessage, reserveAttempt, settleAttempt } from "./attempts";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "./password";

export const SIGN_IN_MESSAGES = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an administrator to enable it.",
} as const;

export type SignInResult = { ok: true; user: User } | { ok: false; message: string };

/** Where an attempt comes from: the client address (see lib/auth/client-address.ts) and the time. */
export type AttemptSource = { client?: string; now?: number };

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function signInWithPassword(
  db: Db,
  emailInput: string,
  password: string,
  source: AttemptSource = {},
): Promise<SignInResult> {
  const email = normalizeEmail(emailInput);
  const reservation = reserveAttempt(db, email, source.client ?? "", source.now);
  if (!reservation.ok) return { ok: false, message: lockoutMessage(reservation.retryAfterMs) };
  const user = email ? db.select().from(users).where(eq(users.email, email)).get() : undefined;
  const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !valid) return { ok: false, message: SIGN_IN_MESSAGES.invalid };
  settleAttempt(db, reservation, true);
  if (user.disabled) return { ok: false, message: SIGN_IN_MESSAGES.disabled };
  if (needsRehash(user.passwordHash)) {
    const passwordHash = await hashPassword(password);
    db.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run();
    return { ok: true, user: { ...user, passwordHash } };
  }
  return { ok: true, user };
}
