"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { DeviceCodeSteps } from "@/app/_components/device-code";
import { DiagnosisBox } from "@/app/_components/diagnosis-box";
import { usePoll } from "@/app/_components/use-poll";
import { formatUtc } from "@/lib/format-time";
import type { DeviceSignInView } from "@/lib/service/device-sign-ins";
import type { SignInState } from "@/lib/service/sign-in-state";

type Props = {
  tenantSlug: string;
  mailboxId: number;
  login: string;
  state: SignInState;
  /** A sign-in already waiting for its user (shown again after a reload). */
  open: DeviceSignInView | null;
};

/**
 * "Sign in with Microsoft": shows the code and the address to enter it at, each with a copy button,
 * and asks the portal every two seconds until Microsoft has answered.
 */
export function DeviceSignIn({ tenantSlug, mailboxId, login, state, open }: Props) {
  const [signIn, setSignIn] = useState<DeviceSignInView | null>(open);
  const [starting, setStarting] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const router = useRouter();
  const base = `/api/tenants/${tenantSlug}/mailboxes/${mailboxId}/sign-in`;
  const waiting = signIn?.status === "starting" || signIn?.status === "pending";

  usePoll(waiting ? `${base}/${signIn.id}` : null, async (response) => {
    if (!response.ok) {
      setProblem(`The portal did not answer (HTTP ${response.status}); still trying.`);
      return;
    }
    const next = ((await response.json()) as { signIn: DeviceSignInView }).signIn;
    setProblem(null);
    setSignIn(next);
    if (next.status === "succeeded") router.refresh();
  });

  async function start() {
    setStarting(true);
    setProblem(null);
    try {
      const response = await fetch(base, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const body = (await response.json().catch(() => ({}))) as { signIn?: DeviceSignInView; error?: string };
      if (!response.ok || !body.signIn) {
        setProblem(body.error ?? `The sign-in could not start (HTTP ${response.status}).`);
        return;
      }
      setSignIn(body.signIn);
    } catch {
      setProblem("The portal could not be reached. Check the connection and try again.");
    } finally {
      setStarting(false);
    }
  }

  async function cancel() {
    if (!signIn) return;
    const response = await fetch(`${base}/${signIn.id}`, { method: "DELETE" });
    if (response.ok) setSignIn(((await response.json()) as { signIn: DeviceSignInView }).signIn);
  }

  const again = state.kind !== "awaiting-sign-in";
  return (
    <section aria-labelledby="microsoft-sign-in">
      <h2 id="microsoft-sign-in">Microsoft sign-in</h2>
      <SignInStatus state={state} />
      {waiting && signIn ? (
        <Prompt signIn={signIn} login={login} onCancel={() => void cancel()} />
      ) : (
        <>
          {signIn && <Ending signIn={signIn} />}
          <p>
            <button type="button" className="primary" onClick={() => void start()} disabled={starting}>
              {starting ? "Asking Microsoft for a code…" : again ? "Sign in again" : "Sign in with Microsoft"}
            </button>
          </p>
        </>
      )}
      <p role="alert" className="error">
        {problem}
      </p>
    </section>
  );
}

function SignInStatus({ state }: { state: SignInState }) {
  if (state.kind === "awaiting-sign-in") {
    return (
      <p className="status" data-sign-in="awaiting">
        Awaiting sign-in: nobody has signed in yet, so monitoring does not test this mailbox and raises no alert. Sign
        in as the Login; MFA is done at Microsoft.
      </p>
    );
  }
  if (state.kind === "sign-in-again") {
    return (
      <p className="status warn" role="alert" data-sign-in="again">
        Sign in again: Microsoft refused the stored sign-in{state.account ? ` of ${state.account}` : ""} on{" "}
        {formatUtc(state.since)} UTC{state.code ? ` (${state.code})` : ""}. It expires after 90 days unused, and when
        the password changes or sessions are revoked.
      </p>
    );
  }
  return (
    <p className="status ok" data-sign-in="ok">
      Signed in as {state.account} on {formatUtc(state.at)} UTC{state.by ? ` by ${state.by}` : ""}. Navigator Mail
      renews the sign-in by itself.
    </p>
  );
}

function Prompt({ signIn, login, onCancel }: { signIn: DeviceSignInView; login: string; onCancel: () => void }) {
  if (signIn.status === "starting" || !signIn.userCode) {
    return <p aria-live="polite">Asking Microsoft for a code…</p>;
  }
  const until = signIn.expiresAt ? formatUtc(new Date(signIn.expiresAt)).slice(11) : null;
  return (
    <div className="device-code">
      <DeviceCodeSteps
        userCode={signIn.userCode}
        verificationUri={signIn.verificationUri}
        who={`Sign in as ${login}.`}
      />
      <p aria-live="polite" className="muted">
        {signIn.waiting}
        {until && ` The code is valid until ${until} UTC.`}
      </p>
      <p>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </p>
    </div>
  );
}

function Ending({ signIn }: { signIn: DeviceSignInView }) {
  if (signIn.status === "succeeded") {
    return (
      <p className="status ok" role="status">
        Signed in as {signIn.account}. Send a test email to prove the whole path.
      </p>
    );
  }
  return (
    <DiagnosisBox diagnosis={signIn.diagnosis} fallback="The sign-in did not finish." name="data-sign-in-failure" />
  );
}
