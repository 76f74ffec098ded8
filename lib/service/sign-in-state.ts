import "server-only";
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxes } from "@/db/schema";
import type { CheckOutcome } from "@/lib/engine/steps";

/** Where a Microsoft sign-in (device code) mailbox stands, kept apart from the sign-in's flow that tests use. */
export type SignInState =
  | { kind: "awaiting-sign-in" }
  | { kind: "signed-in"; account: string; at: Date; by: string | null }
  | { kind: "sign-in-again"; account: string | null; since: Date; code: string | null };

/**
 * The same states as SQL, for the status overview, the alerts and the scheduler: a Microsoft
 * sign-in mailbox nobody has signed in yet is awaiting its sign-in (not failing, and not tested);
 * one whose stored sign-in Entra refused needs "Sign in again".
 */
export const AWAITING_SIGN_IN = sql`(${mailboxes.signInMethod} = 'device' AND ${mailboxes.signedInAt} IS NULL AND ${mailboxes.signInLostAt} IS NULL)`;
export const SIGN_IN_LOST = sql`(${mailboxes.signInMethod} = 'device' AND ${mailboxes.signInLostAt} IS NOT NULL)`;

/** Where a device-code mailbox stands: awaiting its first sign-in, signed in, or refused by Entra since. */
export function signInStateOf(
  mailbox: Pick<Mailbox, "signedInAccount" | "signedInAt" | "signedInBy" | "signInLostAt" | "signInLostCode">,
): SignInState {
  if (mailbox.signInLostAt) {
    return {
      kind: "sign-in-again",
      account: mailbox.signedInAccount,
      since: mailbox.signInLostAt,
      code: mailbox.signInLostCode,
    };
  }
  if (!mailbox.signedInAt || !mailbox.signedInAccount) return { kind: "awaiting-sign-in" };
  return { kind: "signed-in", account: mailbox.signedInAccount, at: mailbox.signedInAt, by: mailbox.signedInBy };
}

/**
 * After a test of the saved settings: Entra refused the stored sign-in, so the mailbox now needs
 * "Sign in again". A sign-in that happened meanwhile is not touched.
 */
export async function noteSignInLost(db: Db, mailbox: Mailbox, outcome: CheckOutcome): Promise<void> {
  if (mailbox.signInMethod !== "device" || !mailbox.signedInAt) return;
  const token = outcome.steps.find((s) => s.name === "token");
  if (token?.diagnosis?.code !== "SIGN_IN_AGAIN") return;
  const detail = token.diagnosis.detail ?? "";
  const code = /AADSTS\d+/.exec(detail)?.[0] ?? (detail.includes("invalid_grant") ? "invalid_grant" : null);
  await db
    .update(mailboxes)
    .set({ signInLostAt: new Date(), signInLostCode: code })
    .where(and(eq(mailboxes.id, mailbox.id), eq(mailboxes.signedInAt, mailbox.signedInAt)));
}
