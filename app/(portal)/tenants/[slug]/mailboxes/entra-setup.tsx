"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { CopyButton } from "@/app/_components/copy-button";
import { DeviceCodeSteps } from "@/app/_components/device-code";
import { DiagnosisBox } from "@/app/_components/diagnosis-box";
import { usePoll } from "@/app/_components/use-poll";
import type { EntraSetupView } from "@/lib/service/entra-setups/view";

type Props = {
  /** The setup's API: the mailbox's, or the tenant's for its default app registration. */
  api: string;
  target: "mailbox" | "tenant";
  /** Prefills the organisation's domain. */
  domain: string;
  /** A setup under way or just finished, shown again after a reload. */
  initial: EntraSetupView | null;
  /** App-only: application permissions and a new certificate instead of public client flows. */
  appOnly?: boolean;
  /** A mailbox over Microsoft Graph: Graph's mail permissions instead of Exchange Online's. */
  graph?: boolean;
  /** The tenant page asks for the organisation's Microsoft cloud (a mailbox has its own). */
  clouds?: { value: string; label: string }[];
  cloud?: string;
};

const KINDS: [EntraSetupView["kind"], string][] = [
  ["delegated", "As its user: password or Microsoft sign-in (delegated permissions)"],
  ["app", "As the app: App-only with a certificate, no user password (application permissions)"],
];
const POLLING: EntraSetupView["status"][] = ["starting", "waiting"];

/**
 * "Set up in Microsoft Entra for me": the admin's organisation and an app name, a device-code
 * sign-in as an admin who may register apps, the plan to confirm, then each step and the test.
 */
export function EntraSetup({ api, target, domain, initial, appOnly = false, graph = false, clouds, cloud }: Props) {
  const [setup, setSetup] = useState<EntraSetupView | null>(initial);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[] | undefined>>({});
  const [kind, setKind] = useState<EntraSetupView["kind"]>(appOnly ? "app" : "delegated");
  // What the admin typed, shown again when the form comes back after a refusal or a failed setup.
  const [typed, setTyped] = useState<Record<string, string>>({});
  const router = useRouter();
  const base = api;
  const polling = setup !== null && POLLING.includes(setup.status);

  usePoll(polling ? `${base}/${setup.id}` : null, async (response) => {
    if (response.ok) setSetup(((await response.json()) as { setup: EntraSetupView }).setup);
  });

  async function call(url: string, body: unknown, method: "POST" | "DELETE" = "POST") {
    setBusy(true);
    setProblem(null);
    try {
      const response = await fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? JSON.stringify(body) : undefined,
      });
      const answer = (await response.json().catch(() => ({}))) as {
        setup?: EntraSetupView;
        error?: string;
        fieldErrors?: Record<string, string[]>;
      };
      setFieldErrors(answer.fieldErrors ?? {});
      if (!response.ok || !answer.setup) {
        setProblem(answer.error ?? `The portal answered HTTP ${response.status}.`);
        return;
      }
      setSetup(answer.setup);
      if (answer.setup.status === "done") router.refresh();
    } catch {
      setProblem("The portal could not be reached. Check the connection and try again.");
    } finally {
      setBusy(false);
    }
  }

  /** Confirm, resume or test again: the same request, which does what the setup still lacks. */
  const proceed = () => setup && void call(`${base}/${setup.id}`, {});
  /** Delete the app this setup registered before it failed. */
  const deleteCreated = () => setup && void call(`${base}/${setup.id}`, undefined, "DELETE");

  function start(form: FormData) {
    setTyped(Object.fromEntries([...form].map(([name, value]) => [name, String(value)])));
    void call(base, {
      directory: form.get("directory"),
      appName: form.get("appName"),
      ...(target === "mailbox" ? { kind } : {}),
      ...(clouds ? { cloud: form.get("cloud") } : {}),
    });
  }

  return (
    <section aria-labelledby="entra-setup">
      <h2 id="entra-setup">Set up in Microsoft Entra</h2>
      {!setup || setup.status === "failed" ? (
        <>
          <p className="hint">
            {kind === "app"
              ? `Navigator Mail registers the app for you: single tenant, a new certificate (its private key stays here), the application permissions ${graph ? "Mail.Send and Mail.ReadWrite of Microsoft Graph" : "SMTP.SendAsApp and IMAP.AccessAsApp"}, admin consent. ${graph ? "Limiting the app to this mailbox" : "Giving the app this mailbox"} is then a few PowerShell lines in Exchange, shown with the app's IDs.`
              : `Navigator Mail registers the app for you: single tenant, public client flows on, ${graph ? "Mail.Send and Mail.ReadWrite of Microsoft Graph" : "SMTP.Send and IMAP.AccessAsUser.All"}, admin consent.`}{" "}
            You sign in once as an Application Administrator, Cloud Application Administrator, Global Administrator or
            Privileged Role Administrator and confirm the plan; nothing is created before that.
          </p>
          {setup && <Failure setup={setup} />}
          {setup && <CreatedApp setup={setup} busy={busy} onDelete={deleteCreated} />}
          {setup && setup.steps.length > 0 && <Steps setup={setup} />}
          {setup?.status === "failed" && setup.steps.length > 0 && setup.steps.some((s) => s.done) && (
            <Proceed busy={busy} onClick={proceed} label="Resume the setup" busyLabel="Resuming…" />
          )}
          <form
            className="entra-setup-form"
            onSubmit={(event) => {
              event.preventDefault();
              start(new FormData(event.currentTarget));
            }}
          >
            {target === "mailbox" && (
              <fieldset className="inline-choice stacked">
                <legend>How this mailbox will sign in</legend>
                {KINDS.map(([value, label]) => (
                  <label key={value}>
                    <input
                      type="radio"
                      name="kind"
                      value={value}
                      checked={kind === value}
                      onChange={() => setKind(value)}
                    />{" "}
                    {label}
                  </label>
                ))}
                {fieldErrors.kind && <p className="field-error">{fieldErrors.kind[0]}</p>}
              </fieldset>
            )}
            <div className="field">
              <label htmlFor="entra-directory">Your organisation&apos;s domain or TenantID</label>
              <input
                id="entra-directory"
                name="directory"
                defaultValue={typed.directory ?? domain}
                autoComplete="off"
                maxLength={253}
                aria-invalid={fieldErrors.directory ? true : undefined}
              />
              {fieldErrors.directory && <p className="field-error">{fieldErrors.directory[0]}</p>}
            </div>
            <div className="field">
              <label htmlFor="entra-app-name">App name</label>
              <input
                id="entra-app-name"
                name="appName"
                defaultValue={typed.appName ?? "Navigator Mail"}
                maxLength={120}
                aria-invalid={fieldErrors.appName ? true : undefined}
              />
              {fieldErrors.appName && <p className="field-error">{fieldErrors.appName[0]}</p>}
            </div>
            {clouds && (
              <div className="field">
                <label htmlFor="entra-cloud">Microsoft cloud</label>
                <select id="entra-cloud" name="cloud" defaultValue={typed.cloud ?? cloud ?? "global"}>
                  {clouds.map((option) => (
                    <option key={option.value} value={option.value}>
                      {option.label}
                    </option>
                  ))}
                </select>
                {fieldErrors.cloud && <p className="field-error">{fieldErrors.cloud[0]}</p>}
              </div>
            )}
            <button type="submit" disabled={busy}>
              {busy ? "Asking Microsoft for a code…" : "Set up in Microsoft Entra for me"}
            </button>
          </form>
        </>
      ) : setup.status === "starting" || setup.status === "waiting" ? (
        <Prompt setup={setup} />
      ) : setup.status === "planned" ? (
        <>
          <p>
            Signed in as {setup.admin}. This is what will be created or changed in your organisation&apos;s Microsoft
            Entra ID:
          </p>
          <Steps setup={setup} />
          <p className="muted">
            Permissions and admin consent are only added to: nothing the app or your organisation has already is
            removed.
          </p>
          <Proceed busy={busy} onClick={proceed} label="Confirm and set up" busyLabel="Setting up and testing…" />
        </>
      ) : setup.status === "applying" ? (
        <p aria-live="polite">Setting up and testing…</p>
      ) : setup.status === "done" ? (
        <div className="status ok" role="status" data-entra-setup="done">
          <p>
            Done: the app {setup.appName} ({setup.appId}) is set up, and its ClientID and TenantID are saved{" "}
            {target === "mailbox"
              ? `in this mailbox${setup.kind === "app" ? ", with the new certificate" : ""}.`
              : "as the tenant's default app registration: new mailboxes start from it."}
          </p>
          <Steps setup={setup} />
          <Exchange setup={setup} />
        </div>
      ) : (
        <>
          <Steps setup={setup} />
          <Failure setup={setup} />
          <CreatedApp setup={setup} busy={busy} onDelete={deleteCreated} />
          <Exchange setup={setup} />
          <Proceed busy={busy} onClick={proceed} label="Test again" busyLabel="Testing again…" />
        </>
      )}
      <p role="alert" className="error">
        {problem}
      </p>
    </section>
  );
}

function Proceed(props: { busy: boolean; onClick: () => void; label: string; busyLabel: string }) {
  return (
    <p>
      <button type="button" className="primary" disabled={props.busy} onClick={props.onClick}>
        {props.busy ? props.busyLabel : props.label}
      </button>
    </p>
  );
}

function Steps({ setup }: { setup: EntraSetupView }) {
  return (
    <ol className="plan">
      {setup.steps.map((step) => (
        <li key={step.key} data-step={step.key} data-done={step.done}>
          {step.done ? "✓ " : ""}
          {step.label}
          {step.objectId && <span className="muted"> ({step.objectId})</span>}
        </li>
      ))}
    </ol>
  );
}

const EXCHANGE_STATUS = { passed: "✓ Done", failed: "✗ Not yet", unknown: "Not tested yet", "not-needed": "" };

/** What only Exchange PowerShell can do, ready to paste, ticked once the setup's test proves it. */
function Exchange({ setup }: { setup: EntraSetupView }) {
  if (setup.exchange.length === 0) return null;
  return (
    <>
      <h3>In Exchange Online</h3>
      <p className="muted">
        Microsoft Graph cannot change Exchange. If a step below is not done, run its PowerShell as an Exchange
        administrator, then press Test again.
      </p>
      <ol className="plan exchange-steps">
        {setup.exchange.map((step) => (
          <li key={step.key} data-exchange-step={step.key} data-status={step.status}>
            <strong>{step.title}</strong> <span className="muted">{EXCHANGE_STATUS[step.status]}</span>
            {step.command && step.status !== "passed" && (
              <div className="command">
                <pre>{step.command}</pre>
                <CopyButton text={step.command} label="Copy PowerShell" copiedLabel="PowerShell copied" />
              </div>
            )}
          </li>
        ))}
      </ol>
    </>
  );
}

/** A setup that stopped after it registered an app says so, and offers to delete that app. */
function CreatedApp({ setup, busy, onDelete }: { setup: EntraSetupView; busy: boolean; onDelete: () => void }) {
  const created = setup.createdApplication;
  if (!created) return null;
  if (created.deletedAt) {
    return (
      <p className="status ok" role="status" data-created-app="deleted">
        The app {setup.appName} this setup registered was deleted from your organisation.
      </p>
    );
  }
  if (!created.deletable) return null;
  return (
    <div className="status warn" data-created-app="offered">
      <p>
        This setup registered the app {setup.appName} (object ID {created.objectId}) in your organisation before it
        stopped. Resume the setup to finish it, or delete the app so nothing is left behind.
      </p>
      <p>
        <button type="button" className="danger" disabled={busy} onClick={onDelete}>
          {busy ? "Deleting…" : "Delete the app the setup created"}
        </button>
      </p>
    </div>
  );
}

function Failure({ setup }: { setup: EntraSetupView }) {
  if (!setup.diagnosis) return null;
  return (
    <DiagnosisBox diagnosis={setup.diagnosis} fallback="The setup did not finish." name="data-entra-setup-failure" />
  );
}

function Prompt({ setup }: { setup: EntraSetupView }) {
  if (!setup.userCode) return <p aria-live="polite">Asking Microsoft for a code…</p>;
  return (
    <div className="device-code">
      <DeviceCodeSteps
        userCode={setup.userCode}
        verificationUri={setup.verificationUri}
        who="Sign in as an admin of your organisation who may register apps."
      />
      <p aria-live="polite" className="muted">
        Waiting for the sign-in at Microsoft…
      </p>
    </div>
  );
}
