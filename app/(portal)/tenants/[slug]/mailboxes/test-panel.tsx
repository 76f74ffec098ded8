"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { CopyReport } from "@/app/_components/copy-report";
import { formatMs, StepList, type StepView } from "@/app/_components/step-list";
import type { StepResult } from "@/lib/engine/steps";
import { formatUtc } from "@/lib/format-time";
import type { TestEvent } from "@/lib/service/mailbox-tests";
import { formatReport, type ReportHeader } from "@/lib/service/report";

type Props = {
  tenantSlug: string;
  mailboxId: number;
  formId: string;
  header: Omit<ReportHeader, "startedAt" | "source" | "by">;
  user: string;
  historyHref: string;
};

type Result = { ok: boolean; durationMs: number; arrivalMs: number | null; testId: number };

export function TestPanel({ tenantSlug, mailboxId, formId, header, user, historyHref }: Props) {
  const [source, setSource] = useState<"saved" | "form">("saved");
  const [running, setRunning] = useState(false);
  const [steps, setSteps] = useState<StepView[]>([]);
  const [result, setResult] = useState<Result | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const started = useRef<string>("");
  const router = useRouter();

  async function run() {
    setRunning(true);
    setProblem(null);
    setResult(null);
    setSteps([]);
    started.current = `${formatUtc(new Date(), "seconds")} UTC`;
    try {
      const form = source === "form" ? formValues(formId) : undefined;
      const response = await fetch(`/api/tenants/${tenantSlug}/mailboxes/${mailboxId}/tests`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ source, form }),
      });
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        setProblem(body.error ?? `The test could not start (HTTP ${response.status}).`);
        return;
      }
      await readEvents(response.body, (event) => {
        if (event.type === "plan")
          setSteps(event.steps.map((s, i) => ({ ...s, status: i === 0 ? "running" : "pending" })));
        if (event.type === "step") setSteps((current) => advance(current, event.step));
        if (event.type === "done") {
          setResult({ ok: event.ok, durationMs: event.durationMs, arrivalMs: event.arrivalMs, testId: event.testId });
          // Updates the "Last test" badge; what is typed in the form stays.
          router.refresh();
        }
      });
    } catch {
      setProblem("The connection to the portal was lost; the test result is in the history.");
    } finally {
      setRunning(false);
    }
  }

  const finished = steps.filter((s) => s.step);
  const report =
    finished.length > 0 && !running
      ? formatReport(
          { ...header, startedAt: started.current, source, by: user },
          finished.map((s) => s.step!),
          Object.fromEntries(steps.map((s) => [s.name, s.label])),
        )
      : null;

  return (
    <section aria-labelledby="test-heading" className="test-panel">
      <h2 id="test-heading">Test</h2>
      <fieldset className="inline-choice" disabled={running}>
        <legend className="visually-hidden">Settings to test</legend>
        <label>
          <input type="radio" name="test-source" checked={source === "saved"} onChange={() => setSource("saved")} />{" "}
          Saved settings
        </label>
        <label>
          <input type="radio" name="test-source" checked={source === "form"} onChange={() => setSource("form")} />{" "}
          Values in the form (not saved)
        </label>
      </fieldset>
      <div className="form-actions">
        <button type="button" className="primary" onClick={() => void run()} disabled={running} aria-busy={running}>
          {running ? "Testing…" : "Send test email"}
        </button>
        <Link prefetch={false} href={historyHref}>
          Test history
        </Link>
      </div>
      <div aria-live="polite" className="test-live">
        {problem && (
          <p role="alert" className="form-error">
            {problem}
          </p>
        )}
        {steps.length > 0 && <StepList steps={steps} />}
        {result && (
          <p className={result.ok ? "result result-ok" : "result result-failed"}>
            {result.ok
              ? `All steps passed in ${formatMs(result.durationMs)}.${result.arrivalMs !== null ? ` The test message reached the inbox ${formatMs(result.arrivalMs)} after it was sent.` : ""}`
              : "The test failed. The failed step says what to fix."}
          </p>
        )}
        {report && <CopyReport text={report} />}
      </div>
    </section>
  );
}

function advance(current: StepView[], step: StepResult): StepView[] {
  const next = current.map((s) => (s.name === step.name ? { ...s, status: step.status, step } : s));
  const firstPending = next.findIndex((s) => s.status === "pending");
  if (firstPending >= 0 && !next.some((s) => s.status === "running"))
    next[firstPending] = { ...next[firstPending]!, status: "running" };
  return next;
}

async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: TestEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) onEvent(JSON.parse(line) as TestEvent);
    }
  }
}

function formValues(formId: string): Record<string, string> {
  const form = document.getElementById(formId) as HTMLFormElement | null;
  if (!form) return {};
  const values: Record<string, string> = {};
  for (const [key, value] of new FormData(form).entries())
    if (typeof value === "string" && !key.startsWith("$ACTION")) values[key] = value;
  return values;
}
