import "server-only";
import type { AlertKind, AlertState } from "@/db/schema";
import { CATALOGUE, SETUP_STEP_LABELS } from "@/lib/engine/diagnoses";
import { formatUtc } from "@/lib/format-time";

export const DAY = 86_400_000;

/** A mailbox whose alert state is evaluated: what it is now, what it was last alerted about, and why. */
export type Subject = {
  id: number;
  tenantId: number;
  name: string;
  state: AlertState;
  previous: AlertState | null;
  previousSince: Date | null;
  lastAlertAt: Date | null;
  failureCode: string | null;
  signInLostCode: string | null;
  expiresAt: Date | null;
  certificate: boolean;
  /** When the mailbox's settings last changed: since when it awaits its sign-in. */
  updatedAt: Date | null;
};

export function codeOf(subject: Subject): string | null {
  if (subject.state === "needs-sign-in") return subject.signInLostCode;
  if (subject.state === "failing") return subject.failureCode;
  return null;
}

const STATE_WORDS: Record<AlertState, string> = {
  ok: "working",
  failing: "failing",
  "needs-sign-in": "waiting for Sign in again",
  expiring: "about to lose its credential",
  "awaiting-sign-in": "awaiting its first Microsoft sign-in",
};

/** The words every channel sends: a title and what to do, from the diagnosis catalogue. */
export function alertWords(
  kind: Exclude<AlertKind, "test">,
  subject: Subject,
  now: number,
): { title: string; detail: string } {
  const name = subject.name;
  const explain = (): string => {
    if (subject.state === "expiring" && subject.expiresAt) {
      const days = Math.max(0, Math.ceil((subject.expiresAt.getTime() - now) / DAY));
      const what = subject.certificate ? "certificate" : "client secret";
      return `Its ${what} expires on ${formatUtc(subject.expiresAt).slice(0, 10)} (in ${days} day${days === 1 ? "" : "s"}). Add a new ${what} to the app registration in Microsoft Entra ID and save it on the mailbox before then.`;
    }
    const code = codeOf(subject);
    const entry = code ? CATALOGUE[code as keyof typeof CATALOGUE] : undefined;
    if (!entry) return `The latest test failed${code ? ` (${code})` : ""}. Open the mailbox for its steps.`;
    return `${entry.cause} Fix: ${entry.fix} (setup step "${SETUP_STEP_LABELS[entry.setupStep]}").`;
  };
  switch (kind) {
    case "failing":
      return { title: `${name} is failing`, detail: explain() };
    case "needs-sign-in":
      return {
        title: `${name} needs "Sign in again"`,
        detail: `${explain()} Open the mailbox in Navigator Mail and press "Sign in again".`,
      };
    case "expiring":
      return { title: `${name}: credential expires soon`, detail: explain() };
    case "awaiting-sign-in": {
      const since = subject.previousSince ?? subject.updatedAt;
      return {
        title: `Reminder: ${name} is still awaiting its Microsoft sign-in`,
        detail: `Nobody has signed in to this mailbox with Microsoft since it was set up${since ? ` on ${formatUtc(since)} UTC` : ""}, so it is not tested and cannot send or receive. Open the mailbox in Navigator Mail and press "Sign in with Microsoft".`,
      };
    }
    case "recovered": {
      const since = subject.previousSince ? ` since ${formatUtc(subject.previousSince)} UTC` : "";
      const was = STATE_WORDS[subject.previous ?? "ok"];
      return { title: `${name} works again`, detail: `It was ${was}${since}; now it is fine.` };
    }
    case "reminder": {
      const since = subject.previousSince ? ` since ${formatUtc(subject.previousSince)} UTC` : "";
      return {
        title: `Still ${STATE_WORDS[subject.state]}: ${name}`,
        detail: `Reminder: ${STATE_WORDS[subject.state]}${since}. ${explain()}`,
      };
    }
  }
}

export const TEST_WORDS = {
  title: "Test alert from Navigator Mail",
  detail: "This channel works: alerts about this tenant's mailboxes will arrive here.",
};
