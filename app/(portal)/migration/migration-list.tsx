"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import { DeviceCodeSteps } from "@/app/_components/device-code";
import { DiagnosisBox } from "@/app/_components/diagnosis-box";
import { usePoll } from "@/app/_components/use-poll";
import type { Diagnosis } from "@/lib/engine/diagnoses";
import type { DeviceSignInView } from "@/lib/service/device-sign-ins";
import type { AppDonor, MigrationRow } from "@/lib/service/migration";

/** A password-grant mailbox as the list shows it: the transport and the state in words, no dates. */
type MigrationListRow = Omit<MigrationRow, "lastTestAt" | "transport"> & { transport: string; stateLabel: string };

type Props = {
  rows: MigrationListRow[];
  donors: Record<number, AppDonor[]>;
  /** The super-admin's view across tenants names each row's tenant. */
  showTenant: boolean;
};

/** What a bulk button asked of the selected rows; `nonce` makes pressing it again a new request. */
type Bulk = { to: "device" | "app"; ids: number[]; nonce: number } | null;

/**
 * The password-grant mailboxes, worst first, each with its proposed move: the Microsoft sign-in (a
 * device code the mailbox's user enters) or app-only (the app another mailbox already signs in with,
 * or the one-click Entra setup on the mailbox's page). A selection moves at once; every move is
 * proven by a test before the mailbox changes.
 */
export function MigrationList({ rows, donors, showTenant }: Props) {
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [bulk, setBulk] = useState<Bulk>(null);
  const toggle = (id: number) =>
    setSelected((before) => {
      const next = new Set(before);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const all = selected.size === rows.length && rows.length > 0;
  const run = (to: "device" | "app") => setBulk({ to, ids: [...selected], nonce: Date.now() });
  if (rows.length === 0) {
    return (
      <p className="status ok" data-migration-empty="">
        No mailbox uses the password grant any more.
      </p>
    );
  }
  return (
    <>
      <p className="actions">
        <button type="button" className="secondary" disabled={selected.size === 0} onClick={() => run("device")}>
          Move selected to Microsoft sign-in
        </button>{" "}
        <button type="button" className="secondary" disabled={selected.size === 0} onClick={() => run("app")}>
          Move selected to app-only
        </button>{" "}
        <span className="muted">{selected.size} selected</span>
      </p>
      <table className="migration">
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select all"
                checked={all}
                onChange={() => setSelected(all ? new Set() : new Set(rows.map((r) => r.id)))}
              />
            </th>
            <th scope="col">Mailbox</th>
            {showTenant && <th scope="col">Tenant</th>}
            <th scope="col">State</th>
            <th scope="col">Moves to</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <MigrationRowView
              key={row.id}
              row={row}
              donors={donors[row.tenantId] ?? []}
              showTenant={showTenant}
              selected={selected.has(row.id)}
              onToggle={() => toggle(row.id)}
              bulk={bulk?.ids.includes(row.id) ? bulk : null}
            />
          ))}
        </tbody>
      </table>
    </>
  );
}

type Move =
  | { kind: "idle" }
  | { kind: "device"; signIn: DeviceSignInView }
  | { kind: "testing" }
  | { kind: "waiting"; seconds: number; why: string }
  | { kind: "moved"; to: "device" | "app" }
  | {
      kind: "failed";
      diagnosis: Pick<Diagnosis, "code" | "cause" | "fix" | "detail" | "command"> | null;
      message?: string;
    };

function MigrationRowView({
  row,
  donors,
  showTenant,
  selected,
  onToggle,
  bulk,
}: {
  row: MigrationListRow;
  donors: AppDonor[];
  showTenant: boolean;
  selected: boolean;
  onToggle: () => void;
  bulk: Bulk;
}) {
  const [move, setMove] = useState<Move>({ kind: "idle" });
  const [donor, setDonor] = useState<number | null>(donors[0]?.id ?? null);
  const mailboxHref = `/tenants/${row.tenantSlug}/mailboxes/${row.id}`;
  const api = `/api/tenants/${row.tenantSlug}/mailboxes/${row.id}`;
  const signIn = move.kind === "device" ? move.signIn : null;
  const waiting = signIn !== null && (signIn.status === "starting" || signIn.status === "pending");

  usePoll(waiting ? `${api}/sign-in/${signIn.id}` : null, async (response) => {
    if (!response.ok) return;
    const next = ((await response.json()) as { signIn: DeviceSignInView }).signIn;
    if (next.status === "succeeded") {
      setMove({ kind: "moved", to: "device" });
    } else if (next.status === "failed" || next.status === "cancelled") {
      setMove({ kind: "failed", diagnosis: next.diagnosis });
    } else {
      setMove({ kind: "device", signIn: next });
    }
  });

  async function post(
    url: string,
    body: unknown,
  ): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
    };
  }

  async function toDevice() {
    setMove({ kind: "testing" });
    try {
      const answer = await post(`${api}/sign-in`, { move: true });
      const started = answer.body.signIn as DeviceSignInView | undefined;
      if (!started) {
        setMove({ kind: "failed", diagnosis: null, message: String(answer.body.error ?? `HTTP ${answer.status}`) });
        return;
      }
      setMove({ kind: "device", signIn: started });
    } catch {
      setMove({ kind: "failed", diagnosis: null, message: "The portal could not be reached." });
    }
  }

  async function toApp(appOf: number) {
    setMove({ kind: "testing" });
    try {
      let answer = await post(`${api}/move`, { to: "app", appOf, version: row.version });
      // The test limits (a few tests a minute per administrator) pace a large selection: wait, then go on.
      for (let waits = 0; answer.status === 429 && waits < 30; waits++) {
        const seconds = Math.min(Number(answer.retryAfter) || 10, 120);
        setMove({ kind: "waiting", seconds, why: String(answer.body.error ?? "") });
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        setMove({ kind: "testing" });
        answer = await post(`${api}/move`, { to: "app", appOf, version: row.version });
      }
      if (answer.body.moved === true) {
        setMove({ kind: "moved", to: "app" });
      } else {
        const diagnosis = (answer.body.diagnosis as Extract<Move, { kind: "failed" }>["diagnosis"]) ?? null;
        setMove({ kind: "failed", diagnosis, message: answer.body.error ? String(answer.body.error) : undefined });
      }
    } catch {
      setMove({ kind: "failed", diagnosis: null, message: "The portal could not be reached." });
    }
  }

  // A bulk button reaches each selected row once per press.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs per press (nonce), not per render
  useEffect(() => {
    if (!bulk || ["moved", "device", "testing", "waiting"].includes(move.kind)) return;
    if (bulk.to === "device") void toDevice();
    else if (donor !== null) void toApp(donor);
    else
      setMove({
        kind: "failed",
        diagnosis: null,
        message: "No app-only mailbox in this tenant yet: use the Entra setup.",
      });
  }, [bulk?.nonce]);

  const busy = move.kind === "testing" || move.kind === "waiting" || waiting;
  return (
    <tr data-migration-row={row.id} data-move={move.kind}>
      <td>
        <input type="checkbox" aria-label={`Select ${row.name}`} checked={selected} onChange={onToggle} />
      </td>
      <td>
        <Link prefetch={false} href={mailboxHref}>
          {row.name}
        </Link>
        <br />
        <span className="muted">
          {row.login} · {row.transport}
        </span>
      </td>
      {showTenant && (
        <td>
          <Link prefetch={false} href={`/tenants/${row.tenantSlug}/migration`}>
            {row.tenantName}
          </Link>
        </td>
      )}
      <td>
        <span className={`badge state-${row.state}`}>{row.stateLabel}</span>
        {row.lastFailureCode && <span className="muted"> {row.lastFailureCode}</span>}
      </td>
      <td>
        <p>{row.target.reason}</p>
        {move.kind === "moved" ? (
          <p className="status ok" role="status">
            Moved to {move.to === "device" ? "the Microsoft sign-in" : "app-only"}: the test with it passed. The counts
            above change when the page is reloaded.
          </p>
        ) : (
          <p className="actions">
            <button type="button" className="secondary" disabled={busy} onClick={() => void toDevice()}>
              Move to Microsoft sign-in
            </button>{" "}
            {donors.length > 0 ? (
              <>
                <select
                  aria-label={`App for ${row.name}`}
                  value={donor ?? ""}
                  onChange={(e) => setDonor(Number(e.target.value))}
                >
                  {donors.map((d) => (
                    <option key={d.id} value={d.id}>
                      the app of {d.name}
                    </option>
                  ))}
                </select>{" "}
                <button
                  type="button"
                  className="secondary"
                  disabled={busy || donor === null}
                  onClick={() => donor !== null && void toApp(donor)}
                >
                  Move to app-only
                </button>
              </>
            ) : (
              <Link prefetch={false} href={`${mailboxHref}?move=app#entra-setup`}>
                Set up app-only in Microsoft Entra
              </Link>
            )}
          </p>
        )}
        {move.kind === "testing" && <p aria-live="polite">Testing the mailbox with the new sign-in…</p>}
        {move.kind === "waiting" && (
          <p aria-live="polite" className="muted" data-move-waiting="">
            {move.why} Moving on by itself in {move.seconds} s.
          </p>
        )}
        {signIn && waiting && (
          <div className="device-code">
            {signIn.userCode ? (
              <DeviceCodeSteps
                userCode={signIn.userCode}
                verificationUri={signIn.verificationUri}
                who={`Sign in as ${row.login}.`}
              />
            ) : (
              <p aria-live="polite">Asking Microsoft for a code…</p>
            )}
            <p aria-live="polite" className="muted">
              {signIn.waiting}
            </p>
          </div>
        )}
        {move.kind === "failed" && (
          <>
            <DiagnosisBox
              diagnosis={move.diagnosis}
              fallback={move.message ?? "The move did not finish."}
              name="data-move-failure"
            />
            <p className="muted">Nothing was changed: the mailbox still uses the password grant.</p>
          </>
        )}
      </td>
    </tr>
  );
}
