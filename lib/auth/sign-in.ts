import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type User, users } from "@/db/schema";
import { lockoutMessage, releaseAttempt, reserveAttempt, settleAttempt } from "./attempts";
import {
  dummyPasswordHash,
  HASHING_CAPACITY,
  HashingBusyError,
  hashingIsFull,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password";

export const SIGN_IN_MESSAGES = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an administrator to enable it.",
  busy: "Too many sign-ins at once. Try again in a few seconds.",
} as const;

const admitted = globalThis as unknown as { navigatorSignInsInFlight?: number };

/**
 * A place for one sign-in over HTTP, taken before its request is read: each hashes a password, so no
 * more are let in than the hashing may run and queue. Returns the release, or null when full.
 */
export function admitSignIn(): (() => void) | null {
  const inFlight = admitted.navigatorSignInsInFlight ?? 0;
  if (inFlight >= HASHING_CAPACITY || hashingIsFull()) return null;
  admitted.navigatorSignInsInFlight = inFlight + 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    admitted.navigatorSignInsInFlight = (admitted.navigatorSignInsInFlight ?? 1) - 1;
  };
}

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
  const reservation = await reserveAttempt(db, email, source.client ?? "", source.now);
  if (!reservation.ok) return { ok: false, message: lockoutMessage(reservation.retryAfterMs) };
  const user = email ? (await db.select().from(users).where(eq(users.email, email)))[0] : undefined;
  let valid: boolean;
  try {
    valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  } catch (error) {
    if (!(error instanceof HashingBusyError)) throw error;
    await releaseAttempt(db, reservation);
    return { ok: false, message: SIGN_IN_MESSAGES.busy };
  }
  if (!user || !valid) return { ok: false, message: SIGN_IN_MESSAGES.invalid };
  await settleAttempt(db, reservation, true);
  if (user.disabled) return { ok: false, message: SIGN_IN_MESSAGES.disabled };
  if (needsRehash(user.passwordHash)) {
    // The upgrade waits for a quieter moment (the next sign-in) when the portal is busy hashing.
    const passwordHash = await hashPassword(password).catch((error: unknown) => {
      if (error instanceof HashingBusyError) return null;
      throw error;
    });
    if (!passwordHash) return { ok: true, user };
    await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    return { ok: true, user: { ...user, passwordHash } };
  }
  return { ok: true, user };
}
