import "server-only";
import { randomUUID } from "node:crypto";
import { checkClaims } from "./claims";
import type { CredentialProvider, TokenCacheStore } from "./credentials";
import { type Diagnosis, diagnose } from "./diagnoses";
import { guardHost, type Resolver } from "./network-guard";
import { type CheckSettings, describeIdentities, identitiesOf, tlsModeFor } from "./settings";
import { SIGN_IN_PROVIDERS } from "./sign-in-methods";
import { type CheckOutcome, STEP_LABELS, type StepName, type StepResult } from "./steps";
import type { Endpoint, InboxWatcher, MailCredentials, OpenResult, ServerOverrides, Transport } from "./transport";
import { mailCredentials, testMail } from "./transport";
import { TRANSPORTS, type TransportName } from "./transports";

export type CheckOptions = ServerOverrides & {
  authorityHost: string;
  /** `host:port` entries that may resolve to private addresses (MAIL_ALLOW_PRIVATE). */
  allowlist: readonly string[];
  resolver?: Resolver;
  /** How to get a token; by default the provider of the settings' sign-in method. */
  credentials?: CredentialProvider | null;
  /** Where the provider keeps its token cache; without one every check asks Entra ID afresh. */
  tokenCache?: TokenCacheStore;
  now?: () => number;
  budgetMs?: number;
  tokenTimeoutMs?: number;
  beforeCacheWrite?: () => Promise<void>;
  /**
   * "full" (the default) sends a marked message and waits for it; "light" only signs in to each
   * server (SMTP AUTH, IMAP LOGIN and INBOX), as the hourly monitoring does.
   */
  mode?: "full" | "light";
  /**
   * Whether a token issued by this Entra tenant (its `tid`) may be used here: the portal tenant's
   * bound organisations. A refusal fails the claims step; without it any organisation is taken.
   */
  admitDirectory?: (tid: string | undefined) => boolean | Promise<boolean>;
};

const CHECK_BUDGET_MS = 120_000;

/** The steps these settings' checks will report, in order. */
export function plannedSteps(settings: CheckSettings, credentials = providerFor(settings)): StepName[] {
  return [
    "settings",
    "network",
    ...(credentials ? (["token", "claims"] as const) : []),
    ...usedTransports(settings).map(([name]) => name),
  ];
}

/**
 * Runs the checks and yields each step as it finishes. A remote failure is a step result, never an
 * exception; steps that depend on a failed one are yielded as skipped.
 */
export async function* runChecks(
  settings: CheckSettings,
  options: CheckOptions,
): AsyncGenerator<StepResult, CheckOutcome> {
  const clock = options.now ?? Date.now;
  const started = clock();
  const deadline = started + (options.budgetMs ?? CHECK_BUDGET_MS);
  const provider = options.credentials === undefined ? providerFor(settings) : options.credentials;
  const planned = plannedSteps(settings, provider);
  const transports = usedTransports(settings);
  const steps: StepResult[] = [];
  const emit = (step: StepResult) => {
    steps.push(step);
    return step;
  };
  const passed = (name: StepName, since: number, summary: string, extra: Pick<StepResult, "metrics" | "tls"> = {}) =>
    emit({
      name,
      status: "passed",
      durationMs: clock() - since,
      summary,
      ...(extra.metrics ? { metrics: extra.metrics } : {}),
      ...(extra.tls ? { tls: extra.tls } : {}),
    });
  const failed = (name: StepName, since: number, diagnosis: Diagnosis, metrics?: Record<string, number>) =>
    emit({
      name,
      status: "failed",
      durationMs: clock() - since,
      summary: diagnosis.cause,
      diagnosis,
      ...(metrics ? { metrics } : {}),
    });
  const skipRest = (reason: StepName) =>
    planned
      .filter((name) => !steps.some((s) => s.name === name))
      .map((name) =>
        emit({ name, status: "skipped", durationMs: 0, summary: `Skipped: ${STEP_LABELS[reason]} failed` }),
      );
  const outcome = (): CheckOutcome => ({
    ok: steps.every((s) => s.status === "passed"),
    steps,
    durationMs: clock() - started,
  });

  // 1. Settings
  let t = clock();
  const problem = settingsProblem(settings, provider, transports, options);
  if (problem) {
    yield failed("settings", t, problem);
    yield* skipRest("settings");
    return outcome();
  }
  yield passed(
    "settings",
    t,
    `${provider ? "OAuth (Microsoft 365)" : "Password"} mailbox ${describeIdentities(settings)}`,
  );

  // 2. Network guard, before any socket
  t = clock();
  const endpoints = new Map<TransportName, Endpoint>();
  // Both servers are resolved at once; the first refusal in the transports' order is reported.
  const guards = await Promise.all(
    transports.map(async ([name, transport]) => {
      const server = transport.server(settings, options) as { host: string; port: number };
      const service = { name: name.toUpperCase(), ports: transport.ports };
      return {
        name,
        server,
        guard: await guardHost(service, server.host, server.port, options.allowlist, options.resolver),
      };
    }),
  );
  for (const { name, server, guard } of guards) {
    if (!guard.ok) {
      yield failed("network", t, guard.diagnosis);
      yield* skipRest("network");
      return outcome();
    }
    endpoints.set(name, { ...server, address: guard.address, mode: tlsModeFor(server.port, settings.useTls) });
  }
  const routes = [...endpoints].map(([name, e]) => `${name.toUpperCase()} ${e.host} → ${e.address}`);
  yield passed("network", t, routes.join(", "));

  // 3–4. Token and its claims
  let credentials = mailCredentials(settings);
  if (provider) {
    t = clock();
    const token = await provider.acquire({
      settings,
      authorityHost: options.authorityHost,
      cache: options.tokenCache,
      timeoutMs: options.tokenTimeoutMs,
      beforeCacheWrite: options.beforeCacheWrite,
    });
    const metrics = { tokenRequests: token.requests };
    if (!token.ok) {
      yield failed("token", t, token.diagnosis, metrics);
      yield* skipRest("token");
      return outcome();
    }
    const how = {
      cache: "from the cache (no request)",
      refresh: "renewed with the refresh token",
      grant: provider.grantLabel,
    };
    yield passed("token", t, `Token ${how[token.source]}`, { metrics });
    t = clock();
    const claims = checkClaims(token.accessToken, token.expect, clock());
    if (!claims.ok) {
      yield failed("claims", t, claims.diagnosis);
      yield* skipRest("claims");
      return outcome();
    }
    if (options.admitDirectory && !(await options.admitDirectory(claims.tid))) {
      yield failed("claims", t, diagnose("DIRECTORY_NOT_ALLOWED", `tid = ${claims.tid}`));
      yield* skipRest("claims");
      return outcome();
    }
    yield passed("claims", t, claims.summary);
    credentials = mailCredentials(settings, { ...token, appOnly: token.expect.kind === "application" });
  }

  if (options.mode === "light") {
    yield* signInOnly(transports, endpoints, credentials, clock, passed, failed);
    return outcome();
  }

  // 5–6. Receivers sign in before the send, so the arrival is seen as it happens.
  const marker = randomUUID();
  const identities = identitiesOf(settings);
  const receiving = transports.flatMap(([name, transport]) =>
    transport.role === "receive"
      ? [{ name, transport, since: clock(), opened: transport.open(endpoints.get(name)!, credentials) }]
      : [],
  );
  const watchers: InboxWatcher[] = [];
  try {
    let acceptedAt: number | undefined;
    for (const [name, transport] of transports) {
      if (transport.role !== "send") continue;
      t = clock();
      const sent = await transport.send(
        endpoints.get(name)!,
        credentials,
        testMail(identities.mailbox, marker, identities.sendAs),
      );
      if (sent.ok) {
        acceptedAt = sent.acceptedAt;
        yield passed(name, t, `Accepted: ${sent.response.slice(0, 120)}`, { tls: sent.tls });
      } else {
        yield failed(name, t, sent.diagnosis);
      }
    }
    const sending = transports.some(([, transport]) => transport.role === "send");
    for (const { name, transport, since, opened } of receiving) {
      const inbox = await opened;
      if (!inbox.ok) {
        yield failed(name, since, inbox.diagnosis);
        continue;
      }
      watchers.push(inbox.watcher);
      const { tls } = inbox;
      if (!sending) {
        yield passed(name, since, "Signed in and opened INBOX", { tls });
      } else if (acceptedAt === undefined) {
        const summary = "Signed in and opened INBOX; no test message to wait for because sending failed";
        yield passed(name, since, summary, { tls });
      } else {
        const arrival = await inbox.watcher.waitFor(marker, Math.min(deadline, since + transport.budgetMs));
        if (!arrival.ok) {
          yield failed(name, since, arrival.diagnosis);
          continue;
        }
        const arrivalMs = Math.max(0, arrival.arrivedAt - acceptedAt);
        const summary = `Test message arrived ${(arrivalMs / 1000).toFixed(2)} s after it was sent, and was deleted`;
        yield passed(name, since, summary, { metrics: { arrivalMs }, tls });
      }
    }
    return outcome();
  } finally {
    // Signing out is not part of the test: it goes on after the outcome is known. A receiver the
    // consumer stopped waiting for (it ended early) still gets closed.
    void closeAll(receiving, watchers);
  }
}

async function closeAll(receiving: { opened: Promise<OpenResult> }[], watchers: InboxWatcher[]): Promise<void> {
  const late = await Promise.all(receiving.map((r) => r.opened.catch(() => null)));
  for (const inbox of late) if (inbox?.ok && !watchers.includes(inbox.watcher)) watchers.push(inbox.watcher);
  await Promise.all(watchers.map((w) => w.close().catch(() => {})));
}

/** The light test: each server is signed in to and left again; no message is sent. */
async function* signInOnly(
  transports: [TransportName, Transport][],
  endpoints: Map<TransportName, Endpoint>,
  credentials: MailCredentials,
  clock: () => number,
  passed: (name: StepName, since: number, summary: string, extra?: Pick<StepResult, "tls">) => StepResult,
  failed: (name: StepName, since: number, diagnosis: Diagnosis) => StepResult,
): AsyncGenerator<StepResult> {
  for (const [name, transport] of transports) {
    const since = clock();
    const endpoint = endpoints.get(name)!;
    if (transport.role === "send") {
      const signedIn = await transport.signIn(endpoint, credentials);
      yield signedIn.ok
        ? passed(name, since, signedIn.response, { tls: signedIn.tls })
        : failed(name, since, signedIn.diagnosis);
      continue;
    }
    const inbox = await transport.open(endpoint, credentials);
    if (!inbox.ok) {
      yield failed(name, since, inbox.diagnosis);
      continue;
    }
    await inbox.watcher.close();
    yield passed(name, since, "Signed in and opened INBOX (light test)", { tls: inbox.tls });
  }
}

/** Runs every check and returns the outcome; onStep sees each step as it finishes. */
export async function runChecksToEnd(
  settings: CheckSettings,
  options: CheckOptions,
  onStep?: (step: StepResult) => void,
): Promise<CheckOutcome> {
  const iterator = runChecks(settings, options);
  for (;;) {
    const next = await iterator.next();
    if (next.done) return next.value;
    onStep?.(next.value);
  }
}

export function providerFor(settings: CheckSettings): CredentialProvider | null {
  return SIGN_IN_PROVIDERS[settings.signInMethod];
}

function usedTransports(settings: CheckSettings): [TransportName, Transport][] {
  return (Object.entries(TRANSPORTS) as [TransportName, Transport][]).filter(([, t]) => t.usedBy(settings));
}

function settingsProblem(
  settings: CheckSettings,
  provider: CredentialProvider | null,
  transports: [TransportName, Transport][],
  hosts: ServerOverrides,
): Diagnosis | null {
  if (!provider && !settings.password) return diagnose("NO_PASSWORD");
  if (!provider && settings.transport === "graph") return diagnose("GRAPH_NEEDS_OAUTH");
  for (const [, transport] of transports) {
    const server = transport.server(settings, hosts);
    if ("missing" in server) return diagnose("SETTINGS_INCOMPLETE", server.missing);
  }
  return null;
}
