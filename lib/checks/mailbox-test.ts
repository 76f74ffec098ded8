import "server-only";
import type { Db } from "@/db/client";
import type { Mailbox } from "@/db/schema";
import type { FieldErrors } from "@/lib/action-result";
import type { Actor } from "@/lib/auth/actor";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { changedDestinations, settingsRow } from "@/lib/mailbox/save";
import { mailboxSettingsSchema } from "@/lib/mailbox/schema";
import { z } from "zod";
import { plannedSteps, runCheckToEnd } from "./run-check";
import { checkOptionsFor, checkSettingsFor } from "./stored-mailbox";
import { credentialFingerprint, finishRun, refusalFor, startRun } from "./test-runs";
import { STEP_LABELS, type CheckSettings, type StepName, type StepResult } from "./types";

export type TestEvent =
  | { type: "plan"; runId: number; steps: { name: StepName; label: string }[] }
  | { type: "step"; step: StepResult }
  | { type: "done"; runId: number; ok: boolean; durationMs: number; arrivalMs: number | null };

export type PreparedTest =
  | { ok: false; status: 409 | 422 | 429; message: string; fieldErrors?: FieldErrors }
  | { ok: true; runId: number; events: AsyncIterable<TestEvent> };

export type TestRequest = { tenantId: number; mailboxId: number; source: "saved" | "form"; form?: Record<string, string> };

/**
 * Authorizes and starts one test of a mailbox. The run goes on to the end and is recorded even if
 * nobody reads the events any more (the administrator closed the page).
 */
export function prepareMailboxTest(db: Db, actor: Actor, request: TestRequest): PreparedTest {
  const mailbox = getMailboxFor(db, actor, request.tenantId, request.mailboxId);
  const chosen = request.source === "form" ? settingsFromForm(mailbox, request.form ?? {}) : { ok: true as const, settings: checkSettingsFor(mailbox) };
  if (!chosen.ok) return chosen;
  const settings = chosen.settings;
  const fingerprint = credentialFingerprint(settings);
  const refusal = refusalFor(db, actor, mailbox.id, fingerprint);
  if (refusal) return { ok: false, status: refusal.startsWith("A test of this mailbox is already running") ? 409 : 429, message: refusal };
  const run = startRun(db, actor, { mailboxId: mailbox.id, tenantId: mailbox.tenantId }, request.source, fingerprint);
  // The token cache belongs to the saved settings; unsaved values get a fresh token.
  const options = checkOptionsFor(settings, request.source === "saved" ? db : undefined, mailbox);
  const queue = new EventQueue<TestEvent>();
  queue.push({ type: "plan", runId: run.id, steps: plannedSteps(settings).map((name) => ({ name, label: STEP_LABELS[name] })) });
  void runCheckToEnd(settings, options, (step) => queue.push({ type: "step", step }))
    .then((outcome) => {
      finishRun(db, actor, run, mailbox.name, outcome);
      const arrival = outcome.steps.find((s) => s.name === "imap")?.metrics?.arrivalMs;
      queue.push({ type: "done", runId: run.id, ok: outcome.ok, durationMs: outcome.durationMs, arrivalMs: arrival ?? null });
    })
    .catch((error) => {
      console.error("mailbox test failed unexpectedly:", error);
      finishRun(db, actor, run, mailbox.name, { ok: false, durationMs: 0, steps: [] });
      queue.push({ type: "done", runId: run.id, ok: false, durationMs: 0, arrivalMs: null });
    })
    .finally(() => queue.end());
  return { ok: true, runId: run.id, events: queue };
}

/** Unsaved form values, under the same password rule as saving. */
function settingsFromForm(mailbox: Mailbox, form: Record<string, string>): { ok: true; settings: CheckSettings } | { ok: false; status: 422; message: string; fieldErrors?: FieldErrors } {
  const parsed = mailboxSettingsSchema.safeParse(form);
  if (!parsed.success) return { ok: false, status: 422, message: "Correct the highlighted fields before testing these values.", fieldErrors: z.flattenError(parsed.error).fieldErrors };
  const row = settingsRow(parsed.data);
  const changed = changedDestinations(mailbox, row);
  let password = parsed.data.password ?? null;
  if (!password && !parsed.data.clearPassword) {
    if (changed.length > 0 && mailbox.passwordSealed !== null) {
      return { ok: false, status: 422, message: `You changed ${changed.join(", ")}: type the password to test these values.`, fieldErrors: { password: ["Type the password to test these values."] } };
    }
    password = checkSettingsFor(mailbox).password;
  }
  return { ok: true, settings: { mailboxId: mailbox.id, ...row, password } };
}

class EventQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private ended = false;

  push(item: T): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
    };
  }
}
