import "server-only";
import { randomUUID } from "node:crypto";
import type { ICachePlugin } from "@azure/msal-node";
import { tlsModeFor } from "@/lib/mailbox/presets";
import { usesImap, usesSmtp } from "@/lib/mailbox/fields";
import { checkClaims } from "./claims";
import { diagnose } from "./diagnoses";
import { IMAP_BUDGET_MS, openInbox, type InboxWatcher } from "./imap";
import { guardMailHost, type Resolver } from "./network-guard";
import { sendTestMessage } from "./smtp";
import { acquireMailboxToken } from "./token";
import { STEP_LABELS, type CheckOutcome, type CheckSettings, type Diagnosis, type StepName, type StepResult } from "./types";

export type CheckOptions = {
  authorityHost: string;
  allowlist: readonly string[];
  resolver?: Resolver;
  cachePlugin?: ICachePlugin;
  budgetMs?: number;
};

export const CHECK_BUDGET_MS = 120_000;
const running = new Set<number>();

/** The steps this mailbox's check will report, in order. */
export function plannedSteps(settings: Pick<CheckSettings, "type" | "azureClientId">): StepName[] {
  const oauth = Boolean(settings.azureClientId);
  return [
    "settings",
    "network",
    ...(oauth ? (["token", "claims"] as const) : []),
    ...(usesSmtp(settings.type) ? (["smtp"] as const) : []),
    ...(usesImap(settings.type) ? (["imap"] as const) : []),
  ];
}

/**
 * Runs the live test and yields each step as it finishes. A remote failure is a step result, never an
 * exception; steps that depend on a failed one are yielded as skipped.
 */
export async function* runCheck(settings: CheckSettings, options: CheckOptions): AsyncGenerator<StepResult, CheckOutcome> {
  const started = Date.now();
  const deadline = started + (options.budgetMs ?? CHECK_BUDGET_MS);
  const steps: StepResult[] = [];
  const planned = plannedSteps(settings);
  const secrets = [settings.password];
  const emit = (step: StepResult) => (steps.push(step), step);
  const skipRest = (reason: StepName) =>
    planned.filter((name) => !steps.some((s) => s.name === name)).map((name) => emit({ name, status: "skipped", durationMs: 0, summary: `Skipped: ${STEP_LABELS[reason]} failed` }));

  // 1. Settings
  let t = Date.now();
  const settingsProblem = checkSettingsComplete(settings);
  if (settingsProblem || (settings.mailboxId !== undefined && running.has(settings.mailboxId))) {
    yield emit(failed("settings", t, settingsProblem ?? diagnose("CHECK_BUSY")));
    yield* skipRest("settings");
    return outcome(steps, started);
  }
  if (settings.mailboxId !== undefined) running.add(settings.mailboxId);
  let watcher: InboxWatcher | undefined;
  try {
    yield emit(passed("settings", t, describeSettings(settings)));

    // 2. Network guard, before any socket
    t = Date.now();
    const targets: { smtp?: string; imap?: string } = {};
    for (const protocol of ["smtp", "imap"] as const) {
      const host = settings[`${protocol}Host`];
      const port = settings[`${protocol}Port`];
      if (!host || !port || !(protocol === "smtp" ? usesSmtp : usesImap)(settings.type)) continue;
      const guard = await guardMailHost(protocol, host, port, options.allowlist, options.resolver);
      if (!guard.ok) {
        yield emit(failed("network", t, guard.diagnosis));
        yield* skipRest("network");
        return outcome(steps, started);
      }
      targets[protocol] = guard.address;
    }
    yield emit(passed("network", t, Object.entries(targets).map(([p, a]) => `${p.toUpperCase()} ${settings[`${p as "smtp" | "imap"}Host`]} → ${a}`).join(", ")));

    // 3–4. Token and its claims (OAuth mailboxes)
    let credentials: { accessToken: string } | { password: string };
    if (settings.azureClientId) {
      t = Date.now();
      const token = await acquireMailboxToken(settings, { authorityHost: options.authorityHost, cachePlugin: options.cachePlugin });
      if (!token.ok) {
        yield emit(failed("token", t, token.diagnosis, { tokenRequests: token.requests }));
        yield* skipRest("token");
        return outcome(steps, started);
      }
      secrets.push(token.accessToken);
      const source = { cache: "from the cache (no request)", refresh: "renewed with the refresh token", password: "with the password grant" }[token.source];
      yield emit(passed("token", t, `Token ${source}`, { tokenRequests: token.requests }));
      t = Date.now();
      const claims = checkClaims(token.accessToken, settings);
      if (!claims.ok) {
        yield emit(failed("claims", t, claims.diagnosis));
        yield* skipRest("claims");
        return outcome(steps, started);
      }
      yield emit(passed("claims", t, claims.summary));
      credentials = { accessToken: token.accessToken };
    } else {
      credentials = { password: settings.password! };
    }

    // 5–6. Send, and watch the inbox from before the send so the arrival is seen as it happens.
    const marker = randomUUID();
    const imapStarted = Date.now();
    const inbox = targets.imap ? openInbox(target(settings, "imap", targets.imap), credentials) : undefined;
    let acceptedAt: number | undefined;
    if (targets.smtp) {
      t = Date.now();
      const sent = await sendTestMessage(target(settings, "smtp", targets.smtp), credentials, marker);
      if (sent.ok) {
        acceptedAt = sent.acceptedAt;
        yield emit(passed("smtp", t, `Accepted: ${sent.response.slice(0, 120)}`));
      } else {
        yield emit(failed("smtp", t, sent.diagnosis));
      }
    }
    if (inbox) {
      const opened = await inbox;
      if (!opened.ok) {
        yield emit(failed("imap", imapStarted, opened.diagnosis));
      } else if (!usesSmtp(settings.type)) {
        watcher = opened.watcher;
        yield emit(passed("imap", imapStarted, "Signed in and opened INBOX"));
      } else if (acceptedAt === undefined) {
        watcher = opened.watcher;
        yield emit(passed("imap", imapStarted, "Signed in and opened INBOX; no test message to wait for because sending failed"));
      } else {
        watcher = opened.watcher;
        const arrival = await watcher.waitFor(marker, Math.min(deadline, imapStarted + IMAP_BUDGET_MS));
        if (arrival.ok) {
          const arrivalMs = Math.max(0, arrival.arrivedAt - acceptedAt);
          yield emit(passed("imap", imapStarted, `Test message arrived ${(arrivalMs / 1000).toFixed(2)} s after it was sent, and was deleted`, { arrivalMs }));
        } else {
          yield emit(failed("imap", imapStarted, arrival.diagnosis));
        }
      }
    }
    return outcome(steps, started);
  } finally {
    await watcher?.close();
    if (settings.mailboxId !== undefined) running.delete(settings.mailboxId);
  }
}

/** Runs the whole check and returns the outcome; onStep sees each step as it finishes. */
export async function runCheckToEnd(settings: CheckSettings, options: CheckOptions, onStep?: (step: StepResult) => void): Promise<CheckOutcome> {
  const iterator = runCheck(settings, options);
  for (;;) {
    const next = await iterator.next();
    if (next.done) return next.value;
    onStep?.(next.value);
  }
}

function checkSettingsComplete(settings: CheckSettings): Diagnosis | null {
  if (!settings.password && !settings.azureClientId) return diagnose("NO_PASSWORD");
  if (usesSmtp(settings.type) && (!settings.smtpHost || !settings.smtpPort)) return diagnose("SETTINGS_INCOMPLETE", "SMTP Server or SMTP Port is empty");
  if (usesImap(settings.type) && (!settings.imapHost || !settings.imapPort)) return diagnose("SETTINGS_INCOMPLETE", "IMAP Server or IMAP Port is empty");
  return null;
}

function describeSettings(settings: CheckSettings): string {
  return `${settings.azureClientId ? "OAuth (Microsoft 365)" : "Password"} mailbox ${settings.login}`;
}

function target(settings: CheckSettings, protocol: "smtp" | "imap", address: string) {
  const port = settings[`${protocol}Port`]!;
  return { host: settings[`${protocol}Host`]!, address, port, mode: tlsModeFor(port, settings.useTls), login: settings.login };
}

function passed(name: StepName, since: number, summary: string, metrics?: Record<string, number>): StepResult {
  return { name, status: "passed", durationMs: Date.now() - since, summary, ...(metrics ? { metrics } : {}) };
}

function failed(name: StepName, since: number, diagnosis: Diagnosis, metrics?: Record<string, number>): StepResult {
  return { name, status: "failed", durationMs: Date.now() - since, summary: diagnosis.cause, diagnosis, ...(metrics ? { metrics } : {}) };
}

function outcome(steps: StepResult[], started: number): CheckOutcome {
  return { ok: steps.every((s) => s.status === "passed"), steps, durationMs: Date.now() - started };
}
