import { SETUP_STEP_LABELS } from "@/lib/engine/diagnoses";
import type { StepName, StepResult } from "@/lib/engine/steps";

export type StepView = {
  name: StepName;
  label: string;
  status: StepResult["status"] | "running" | "pending";
  step?: StepResult;
};

const STATUS_TEXT: Record<StepView["status"], string> = {
  pending: "Waiting",
  running: "Running…",
  passed: "Passed",
  failed: "Failed",
  skipped: "Skipped",
};

/** The steps of a test, live or from history; a failure shows its cause, fix, setup step and folded server reply. */
export function StepList({ steps }: { steps: StepView[] }) {
  return (
    <ol className="steps">
      {steps.map(({ name, label, status, step }) => (
        <li key={name} className={`step step-${status}`}>
          <div className="step-head">
            <span className="step-icon" aria-hidden="true" />
            <strong>{label}</strong>
            <span className="step-status">{STATUS_TEXT[status]}</span>
            {step && <span className="step-time">{formatMs(step.durationMs)}</span>}
            {step?.tls && (
              <span className="step-tls" title={step.tls.cipher}>
                {step.tls.version.replace("TLSv", "TLS ")}
              </span>
            )}
          </div>
          {step && <p className="step-summary">{step.summary}</p>}
          {step?.diagnosis && (
            <div className="diagnosis">
              <p>
                <strong>Fix:</strong> {step.diagnosis.fix}
              </p>
              <p>
                <strong>Setup step:</strong> {SETUP_STEP_LABELS[step.diagnosis.setupStep]}{" "}
                <code className="code">{step.diagnosis.code}</code>
              </p>
              {step.diagnosis.command && (
                <>
                  <p>
                    <strong>Run:</strong>
                  </p>
                  <pre className="command">{step.diagnosis.command}</pre>
                </>
              )}
              {step.diagnosis.detail && (
                <details>
                  <summary>Server reply</summary>
                  <pre>{step.diagnosis.detail}</pre>
                </details>
              )}
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms} ms`;
}
