import "server-only";
import { type Db, type Tx, transaction } from "@/db/client";
import type { Actor } from "@/lib/auth/actor";
import type { TokenCacheStore } from "@/lib/engine/credentials";
import { plannedSteps, runChecks } from "@/lib/engine/run-checks";
import type { CheckSettings, MailTransport } from "@/lib/engine/settings";
import { type CheckOutcome, STEP_LABELS, type StepName, type StepResult } from "@/lib/engine/steps";
import { describeError } from "@/lib/errors";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { deliverDueAlertsAndLog } from "./alerts/delivery";
import { evaluateAlerts } from "./alerts/evaluate";
import { EventQueue } from "./event-queue";
import type { Refusal } from "./refusals";
import { noteSignInLost } from "./sign-in-state";
import { recordTestEnd, recordTestStart, type TestSource } from "./test-history";
import { credentialFingerprint, refusalFor } from "./test-limits";
import { checkOptionsFor, checkSettingsFor, settingsFromForm } from "./test-settings";

export type TestEvent =
  | { type: "plan"; testId: number; steps: { name: StepName; label: string }[] }
  | { type: "step"; step: StepResult }
  | { type: "done"; testId: number; ok: boolean; durationMs: number; arrivalMs: number | null };

export type StartedTest =
  | {
      ok: true;
      testId: number;
      events: AsyncIterable<TestEvent>;
      /**
       * Settles once what follows the answer is done too: the alert evaluation and its deliveries.
       * A short-lived process (the command line) waits for it before it closes the database.
       */
      settled: Promise<void>;
    }
  | { ok: false; refusal: Refusal };

export type TestRequest = {
  tenantId: number;
  mailboxId: number;
  source: TestSource;
  form?: Record<string, string>;
  /** Unsaved settings from the portal itself (the Entra setup proving a new app), for source "form". */
  settings?: CheckSettings;
  /** For source "form": the tokens of a sign-in not saved yet (a move to the Microsoft sign-in proving itself). */
  tokenCache?: TokenCacheStore;
  /** For source "trial": the transport the saved settings are tried over ("Test with Microsoft Graph"). */
  transport?: MailTransport;
  /** "light" signs in only (the hourly monitoring); the default sends and receives a message. */
  mode?: "full" | "light";
  /**
   * A scheduled run's claim, taken in the transaction that records the start (so a process that
   * stops cannot leave a run claimed and never started); false when another process claimed it first.
   */
  claim?: (tx: Tx) => Promise<boolean>;
};

/** A scheduled run another portal process claimed first. */
export const CLAIMED_ELSEWHERE: Refusal = { kind: "busy", message: "Another portal process is testing this mailbox." };

/** Test-only seams into a running test; production passes none. */
export type TestHooks = { beforeCacheWrite?: () => Promise<void> };

/**
 * Authorizes and starts one test of a mailbox: the button, the command line and every later caller
 * come through here. The test goes on to the end and is recorded even if nobody reads the events any
 * more (the administrator closed the page).
 */
export async function startMailboxTest(
  db: Db,
  actor: Actor,
  request: TestRequest,
  hooks: TestHooks = {},
): Promise<StartedTest> {
  const mailbox = await getMailboxFor(db, actor, request.tenantId, request.mailboxId);
  const saved = checkSettingsFor(mailbox);
  const chosen =
    request.source === "trial"
      ? { ok: true as const, settings: { ...saved, transport: request.transport ?? saved.transport } }
      : request.source !== "form"
        ? { ok: true as const, settings: saved }
        : request.settings
          ? { ok: true as const, settings: request.settings }
          : settingsFromForm(mailbox, request.form ?? {});
  if (!chosen.ok) return chosen;
  const { settings } = chosen;
  const fingerprint = credentialFingerprint(settings);
  // Checked and recorded in one write transaction, so two processes cannot both start a test.
  const started = await transaction(db, async (tx) => {
    const owner = { mailboxId: mailbox.id, tenantId: mailbox.tenantId };
    const refusal = await refusalFor(tx, actor, owner, fingerprint);
    if (refusal) return { ok: false as const, refusal };
    if (request.claim && !(await request.claim(tx))) return { ok: false as const, refusal: CLAIMED_ELSEWHERE };
    const mode = request.mode ?? "full";
    return { ok: true as const, test: await recordTestStart(tx, actor, owner, request.source, fingerprint, mode) };
  });
  if (!started.ok) return started;
  const { test } = started;
  // The token cache belongs to the saved settings (whichever transport carries them); unsaved values get a fresh token.
  const cache = request.source === "saved" || request.source === "trial";
  const options = {
    ...checkOptionsFor(settings, { db, mailbox, actor, cache }),
    ...(request.tokenCache ? { tokenCache: request.tokenCache } : {}),
    beforeCacheWrite: hooks.beforeCacheWrite,
    mode: request.mode,
  };
  const queue = new EventQueue<TestEvent>();
  const steps = plannedSteps(settings).map((name) => ({ name, label: STEP_LABELS[name] }));
  queue.push({ type: "plan", testId: test.id, steps });
  const settled = relaySteps(runChecks(settings, options), queue)
    .then(async (outcome) => {
      // Recorded before the answer ends, so the page's history, "Last test", checklist and sign-in
      // state that load next already show it.
      await recordTestEnd(db, actor, test, mailbox.name, outcome);
      if (request.source === "saved") await noteSignInLost(db, mailbox, outcome);
      const arrival = outcome.steps.find((s) => s.metrics?.arrivalMs !== undefined)?.metrics?.arrivalMs;
      queue.push({
        type: "done",
        testId: test.id,
        ok: outcome.ok,
        durationMs: outcome.durationMs,
        arrivalMs: arrival ?? null,
      });
      return true;
    })
    .catch(async (error: unknown) => {
      console.error("mailbox test failed unexpectedly:", describeError(error));
      await recordTestEnd(db, actor, test, mailbox.name, { ok: false, durationMs: 0, steps: [] });
      queue.push({ type: "done", testId: test.id, ok: false, durationMs: 0, arrivalMs: null });
      return false;
    })
    .finally(() => queue.end())
    // The alert is evaluated once the answer's last event has gone out.
    .then(async (recorded) => {
      if (!recorded || request.source !== "saved") return;
      await new Promise((resolve) => setImmediate(resolve));
      await alertOnChange(db, mailbox.id);
    });
  return { ok: true, testId: test.id, events: queue, settled };
}

/**
 * The saved settings' state is known the moment their test is recorded: a change raises its alert
 * now, and its deliveries go out at once (the monitoring sweep retries what fails). The alert's
 * conditional write keeps it to one per change when a sweep evaluates at the same moment.
 */
async function alertOnChange(db: Db, mailboxId: number): Promise<void> {
  try {
    if ((await evaluateAlerts(db, Date.now(), mailboxId)) === 0) return;
  } catch (error) {
    console.error("alert evaluation failed:", describeError(error));
    return;
  }
  await deliverDueAlertsAndLog(db).catch((error: unknown) =>
    console.error("alert delivery failed:", describeError(error)),
  );
}

/** Passes each step on as it finishes and returns the outcome. */
async function relaySteps(
  checks: AsyncGenerator<StepResult, CheckOutcome>,
  queue: EventQueue<TestEvent>,
): Promise<CheckOutcome> {
  for (;;) {
    const next = await checks.next();
    if (next.done) return next.value;
    queue.push({ type: "step", step: next.value });
  }
}

/** A finished test as machines read it: the command line's --json and the API's answer. */
export type TestResultJson = {
  mailbox: { id: number; name: string; tenant: string };
  testId: number;
  ok: boolean;
  durationMs: number;
  steps: StepResult[];
};

/** Follows a started test to its end; onStep sees each step as it finishes. */
export async function testToEnd(
  started: { testId: number; events: AsyncIterable<TestEvent> },
  mailbox: { id: number; name: string; tenant: string },
  onStep?: (step: StepResult) => void,
): Promise<TestResultJson> {
  const steps: StepResult[] = [];
  let result = { ok: false, durationMs: 0 };
  for await (const event of started.events) {
    if (event.type === "step") {
      steps.push(event.step);
      onStep?.(event.step);
    }
    if (event.type === "done") result = event;
  }
  return { mailbox, testId: started.testId, ok: result.ok, durationMs: result.durationMs, steps };
}
