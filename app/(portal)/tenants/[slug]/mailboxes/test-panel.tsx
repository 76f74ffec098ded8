"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { ActionForm } from "@/app/_components/action-form";
import { CopyReport } from "@/app/_components/copy-report";
import { formatMs, StepList, type StepView } from "@/app/_components/step-list";
import type { ActionResult } from "@/lib/action-result";
import { GRAPH_WAY_OUT } from "@/lib/engine/diagnoses";
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
  /**
   * For a saved SMTP and IMAP mailbox that signs in with OAuth: when SMTP AUTH or IMAP is switched off,
   * "Test with Microsoft Graph" tries the saved settings over Graph, and a pass offers the switch.
   */
  graphTrial?: {
    tenantId: number;
    version: number;
    switchAction: (previous: ActionResult | null, formData: FormData) => Promise<ActionResult>;
  };
};

type Result = { ok: boolean; durationMs: number; arrivalMs: number | null; testId: number };

export function TestPanel({ tenantSlug, mailboxId, formId, header, user, historyHref, graphTrial }: Props) {
  const [source, setSource] = useState<"saved" | "form">("saved");
  /** What the last run tested: the chosen settings, or the saved ones over Microsoft Graph. */
  const [ran, setRan] = useState<"test" | "trial">("test");
  // Kept once the switch is offered: after it, the page's props no longer offer a trial, and its answer must stay.
  const trialProps = useRef(graphTrial);
  if (graphTrial) trialProps.current = graphTrial;
  const trial = trialProps.current;
  const [running, setRunning] = useState(false);
  const [steps, setSteps] = useState<StepView[]>([]);
  const [result, setResult] = useState<Result | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const started = useRef<string>("");
  const router = useRouter();

  async function run(trial = false) {
    setRan(trial ? "trial" : "test");
    setRunning(true);
    setProblem(null);
    setResult(null);
    setSteps([]);
    started.current = `${formatUtc(new Date(), "seconds")} UTC`;
    try {
      const form = source === "form" && !trial ? formValues(formId) : undefined;
      const response = await fetch(`/api/tenants/${tenantSlug}/mailboxes/${mailboxId}/tests`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(trial ? { source: "trial", transport: "graph" } : { source, form }),
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
          { ...header, startedAt: started.current, source: ran === "trial" ? "trial" : source, by: user },
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
        {trial && result && !running && (
          <GraphWayOut
            ran={ran}
            passed={result.ok}
            offered={steps.some((s) => GRAPH_WAY_OUT.includes(s.step?.diagnosis?.code ?? ""))}
            onTry={() => void run(true)}
            switchForm={
              <ActionForm action={trial.switchAction} submitLabel="Switch this mailbox to Microsoft Graph">
                <input type="hidden" name="tenantId" value={trial.tenantId} />
                <input type="hidden" name="mailboxId" value={mailboxId} />
                <input type="hidden" name="version" value={trial.version} />
                <input type="hidden" name="transport" value="graph" />
              </ActionForm>
            }
          />
        )}
        {report && <CopyReport text={report} />}
      </div>
    </section>
  );
}

/**
 * The other way out of a switched-off SMTP AUTH or IMAP: the same test over Microsoft Graph with the
 * saved values, nothing saved; after it passes, one button switches the mailbox.
 */
function GraphWayOut(props: {
  ran: "test" | "trial";
  passed: boolean;
  offered: boolean;
  onTry: () => void;
  switchForm: React.ReactNode;
}) {
  if (props.ran === "trial") {
    return props.passed ? (
      <div className="status ok graph-way-out">
        <p>
          The saved settings work over Microsoft Graph. Switch the mailbox to send and receive through Graph; the SMTP
          and IMAP servers stay stored.
        </p>
        {props.switchForm}
      </div>
    ) : (
      <p className="status warn graph-way-out">
        The test over Microsoft Graph failed too; its failed step says what to fix. The mailbox was not changed.
      </p>
    );
  }
  if (props.passed || !props.offered) return null;
  return (
    <div className="status graph-way-out">
      <p>
        If the organisation keeps this switched off, Microsoft Graph is the other way: it sends with sendMail and reads
        the inbox over HTTPS, with the permissions Mail.Send and Mail.ReadWrite.
      </p>
      <button type="button" className="secondary" onClick={props.onTry}>
        Test with Microsoft Graph
      </button>
    </div>
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
