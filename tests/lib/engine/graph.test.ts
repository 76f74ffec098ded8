import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryTokenCache } from "@/lib/engine/credentials";
import { graphReceiveTransport, graphSendTransport } from "@/lib/engine/graph";
import { openInbox } from "@/lib/engine/imap";
import { type CheckOptions, runChecksToEnd } from "@/lib/engine/run-checks";
import type { CheckSettings } from "@/lib/engine/settings";
import { smtpTransport } from "@/lib/engine/smtp";
import { type Endpoint, type MailCredentials, type OutgoingMail, testMail } from "@/lib/engine/transport";
import type { EmuApp } from "../../support/rig/entra-emulator";
import { GRAPH_PERMISSIONS, type Rig, startRig } from "../../support/rig/rig";
import { EVERY_GRAPH_STEP_PASSED, stepStatuses } from "../../support/steps";

// Microsoft Graph as the mail transport, against the rig's Graph over the same Dovecot as SMTP and IMAP.
let rig: Rig;
let graph: Endpoint;

beforeAll(async () => {
  rig = await startRig();
  const url = new URL(rig.entra.authorityHost);
  graph = { host: url.hostname, address: url.hostname, port: Number(url.port), mode: "implicit" };
});

afterAll(() => rig?.stop());

function options(extra: Partial<CheckOptions> = {}): CheckOptions {
  return {
    authorityHost: rig.entra.authorityHost,
    graphHost: rig.entra.authorityHost,
    allowlist: rig.allowlist,
    ...extra,
  };
}

async function check(settings: CheckSettings, extra: Partial<CheckOptions> = {}) {
  const outcome = await runChecksToEnd(settings, options(extra));
  const failure = outcome.steps.find((s) => s.status === "failed");
  return { ...outcome, failure, step: (name: string) => outcome.steps.find((s) => s.name === name) };
}

const graphSettings = (user: { upn: string; password: string }, overrides: Partial<CheckSettings> = {}) =>
  rig.settings(user, { transport: "graph", ...overrides });

/** An app registration with Graph's application permissions and a secret, as an administrator sets it up. */
function graphApp(app: Partial<EmuApp> = {}) {
  const secret = `graph-secret~${randomUUID()}`;
  const { clientId, servicePrincipalId } = rig.addAppOnlyApp({
    appRoles: GRAPH_PERMISSIONS,
    secrets: [{ value: secret }],
    ...app,
  });
  return { clientId, servicePrincipalId, secret };
}

function appSettings(mailbox: string, app: { clientId: string; secret: string }): CheckSettings {
  return {
    ...rig.settings(
      { upn: mailbox, password: "" },
      { transport: "graph", password: null, azureClientId: app.clientId },
    ),
    signInMethod: "app",
    appCredential: { kind: "secret", secret: app.secret },
  };
}

const GRAPH = "https://graph.microsoft.com";
const OUTLOOK = "https://outlook.office.com";

async function userToken(upn: string, password: string, scopes = GRAPH_PERMISSIONS, resource = GRAPH): Promise<string> {
  const form = new URLSearchParams({
    grant_type: "password",
    client_id: rig.tenant.apps[0]!.clientId,
    username: upn,
    password,
    scope: scopes.map((s) => `${resource}/${s}`).join(" "),
  });
  const answer = await fetch(`${rig.entra.authorityHost}/${rig.tenant.id}/oauth2/v2.0/token`, {
    method: "POST",
    body: form,
  });
  return ((await answer.json()) as { access_token: string }).access_token;
}

/** The test message sent through the rig's Graph from `mailbox` with `token`, optionally changed. */
function sendOverGraph(mailbox: string, token: string, change: Partial<OutgoingMail> = {}) {
  return graphSendTransport.send(
    graph,
    { user: mailbox, mailbox, accessToken: token },
    { ...testMail(mailbox, randomUUID()), ...change },
  );
}

describe("the test over Microsoft Graph", () => {
  it("passes end to end with the password grant: Graph token and claims, sendMail, found by Message-ID and deleted", async () => {
    const user = rig.addUser();
    const cache = memoryTokenCache();
    const first = await check(graphSettings(user), { tokenCache: cache });
    expect(stepStatuses(first)).toEqual(EVERY_GRAPH_STEP_PASSED);
    expect(first.step("network")!.summary).toContain("GRAPH_SEND");
    expect(first.step("claims")!.summary).toContain("Mail.Send Mail.ReadWrite");
    expect(first.step("graph_receive")!.metrics!.arrivalMs).toBeLessThan(5000);
    expect(first.step("graph_send")!.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(first.step("graph_receive")!.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(rig.dovecot.inboxCount(user.upn)).toBe(0);
    expect(rig.graphMail.sent.at(-1)).toMatchObject({ mailbox: user.upn.toLowerCase(), to: [user.upn] });

    // Warm: the Graph token comes from the cache, with no request to Entra.
    const before = rig.entra.requests.length;
    const warm = await check(graphSettings(user), { tokenCache: cache });
    expect(stepStatuses(warm)).toEqual(EVERY_GRAPH_STEP_PASSED);
    expect(warm.step("token")!.metrics).toEqual({ tokenRequests: 0 });
    expect(rig.entra.requests.length).toBe(before);
  });

  it("keeps the sign-in when the mailbox switches transport: the refresh token serves Graph too", async () => {
    const user = rig.addUser();
    const cache = memoryTokenCache();
    expect((await check(rig.settings(user), { tokenCache: cache })).ok).toBe(true);
    const grantsBefore = rig.entra.tokenRequests("password");
    const switched = await check(graphSettings(user, { password: null, signInMethod: "device" }), {
      tokenCache: cache,
    });
    expect(stepStatuses(switched)).toEqual(EVERY_GRAPH_STEP_PASSED);
    expect(switched.step("token")!.summary).toBe("Token renewed with the refresh token");
    expect(rig.entra.tokenRequests("password")).toBe(grantsBefore);
  });

  it("sends only, or receives only, by Type; the light test reads the inbox and sends nothing", async () => {
    const user = rig.addUser();
    const sendOnly = await check(graphSettings(user, { type: "smtp" }));
    expect(sendOnly.steps.map((s) => s.name)).toEqual(["settings", "network", "token", "claims", "graph_send"]);
    expect(sendOnly.ok).toBe(true);
    const sentBefore = rig.graphMail.sent.length;
    const light = await check(graphSettings(user), { mode: "light" });
    expect(stepStatuses(light)).toEqual(EVERY_GRAPH_STEP_PASSED);
    expect(light.step("graph_receive")!.summary).toContain("light test");
    expect(rig.graphMail.sent.length).toBe(sentBefore);
  });

  it("passes app-only with Graph's application permissions, and names the app's Exchange lines when a policy leaves the mailbox out", async () => {
    const mailbox = rig.addUser().upn;
    const app = graphApp();
    expect(stepStatuses(await check(appSettings(mailbox, app)))).toEqual(EVERY_GRAPH_STEP_PASSED);

    // An application access policy for another group: Exchange names [RAOP].
    rig.graphMail.accessPolicies.set(app.clientId, new Set(["someone-else@contoso.com"]));
    const policy = await check(appSettings(mailbox, app));
    expect(policy.failure).toMatchObject({ name: "graph_send" });
    expect(policy.failure!.diagnosis).toMatchObject({ code: "GRAPH_APP_SCOPE", setupStep: "graph-app-scope" });
    expect(policy.failure!.diagnosis!.detail).toContain("[RAOP]");
    const command = policy.failure!.diagnosis!.command!;
    expect(command).toContain(`Test-ApplicationAccessPolicy -Identity '${mailbox}' -AppId '${app.clientId}'`);
    expect(command).toContain(`New-ServicePrincipal -AppId '${app.clientId}' -ObjectId '${app.servicePrincipalId}'`);
    expect(command).toContain(`-RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''${mailbox}'''`);
    expect(command).toContain(`New-ManagementRoleAssignment -App '${app.clientId}' -Role 'Application Mail.Send'`);
    rig.graphMail.accessPolicies.delete(app.clientId);

    // RBAC for Applications with a scope that holds other mailboxes: no policy lines, the RBAC ones.
    rig.graphMail.rbacScopes.set(app.clientId, new Set(["someone-else@contoso.com"]));
    const scoped = await check(appSettings(mailbox, app));
    expect(scoped.failure!.diagnosis).toMatchObject({ code: "GRAPH_APP_SCOPE" });
    expect(scoped.failure!.diagnosis!.command).not.toContain("ApplicationAccessPolicy");
    rig.graphMail.rbacScopes.set(app.clientId, new Set([mailbox.toLowerCase()]));
    expect((await check(appSettings(mailbox, app))).ok).toBe(true);
  });

  it("is readable the other way round: Graph's message over IMAP, an SMTP message through Graph", async () => {
    const user = rig.addUser();
    const graphCredentials: MailCredentials = {
      user: user.upn,
      mailbox: user.upn,
      accessToken: await userToken(user.upn, user.password),
    };
    const outlookToken = await userToken(user.upn, user.password, ["SMTP.Send", "IMAP.AccessAsUser.All"], OUTLOOK);
    const outlookCredentials: MailCredentials = { user: user.upn, mailbox: user.upn, accessToken: outlookToken };

    // Sent through Graph, found over IMAP by its marker header.
    const imap = await openInbox({ host: rig.ip, address: rig.ip, port: 993, mode: "implicit" }, outlookCredentials);
    if (!imap.ok) throw new Error(imap.diagnosis.code);
    const marker = randomUUID();
    expect((await graphSendTransport.send(graph, graphCredentials, testMail(user.upn, marker))).ok).toBe(true);
    expect(await imap.watcher.waitFor(marker, Date.now() + 5000)).toMatchObject({ ok: true });
    await imap.watcher.close();
    expect(rig.dovecot.inboxCount(user.upn)).toBe(0);

    // Sent over SMTP with XOAUTH2, found through Graph by its Message-ID.
    const inbox = await graphReceiveTransport.open(graph, graphCredentials);
    if (!inbox.ok) throw new Error(inbox.diagnosis.code);
    const smtpMarker = randomUUID();
    const sent = await smtpTransport.send(
      { host: rig.ip, address: rig.ip, port: 587, mode: "starttls" },
      outlookCredentials,
      testMail(user.upn, smtpMarker),
    );
    expect(sent.ok).toBe(true);
    expect(await inbox.watcher.waitFor(smtpMarker, Date.now() + 5000)).toMatchObject({ ok: true });
    expect(rig.dovecot.inboxCount(user.upn)).toBe(0);
  });
});

describe("Graph's refusals, each with its own diagnosis", () => {
  it.each([
    ["CLAIM_GRAPH_SEND", "claims", { consented: ["Mail.ReadWrite"], dropUnconsented: true }],
    ["CLAIM_GRAPH_READ", "claims", { consented: ["Mail.Send"], dropUnconsented: true }],
    ["CLAIM_GRAPH_AUDIENCE", "claims", { consented: GRAPH_PERMISSIONS, audience: "https://outlook.office.com" }],
  ] as const)("%s at the %s step", async (code, step, app) => {
    const clientId = randomUUID();
    rig.tenant.apps.push({ clientId, publicClient: true, ...app, consented: [...app.consented] });
    const user = rig.addUser();
    const result = await check(graphSettings(user, { azureClientId: clientId }));
    expect(result.failure).toMatchObject({ name: step, diagnosis: { code, setupStep: "graph-permissions" } });
    expect(result.steps.filter((s) => s.status === "skipped").map((s) => s.name)).toEqual([
      "graph_send",
      "graph_receive",
    ]);
  });

  it("GRAPH_MAILBOX_NOT_ENABLED for a user without an Exchange Online licence", async () => {
    const user = rig.addUser();
    rig.graphMail.unlicensed.add(user.upn.toLowerCase());
    const result = await check(graphSettings(user));
    expect(result.failure).toMatchObject({ name: "graph_send", diagnosis: { code: "GRAPH_MAILBOX_NOT_ENABLED" } });
    expect(result.step("graph_receive")!.diagnosis!.code).toBe("GRAPH_MAILBOX_NOT_ENABLED");
    expect(result.failure!.diagnosis!.detail).toContain("MailboxNotEnabledForRESTAPI");
  });

  it("GRAPH_INVALID_USER for an app-only mailbox the organisation does not have", async () => {
    const app = graphApp();
    const result = await check(appSettings("nobody-here@contoso.com", app));
    expect(result.failure!.diagnosis).toMatchObject({ code: "GRAPH_INVALID_USER", setupStep: "login" });
    expect(result.failure!.diagnosis!.detail).toContain("ErrorInvalidUser");
  });

  it("GRAPH_ACCESS_DENIED for a user's token on another user's mailbox", async () => {
    const owner = rig.addUser();
    const other = rig.addUser();
    const token = await userToken(other.upn, other.password);
    const sent = await sendOverGraph(owner.upn, token);
    expect(sent).toMatchObject({ ok: false, diagnosis: { code: "GRAPH_ACCESS_DENIED" } });
    expect(JSON.stringify(sent)).not.toContain(token);
  });

  it("GRAPH_INVALID_RECIPIENTS for a recipient Graph cannot resolve", async () => {
    const user = rig.addUser();
    const token = await userToken(user.upn, user.password);
    const sent = await sendOverGraph(user.upn, token, { to: ["not-an-address"] });
    expect(sent).toMatchObject({ ok: false, diagnosis: { code: "GRAPH_INVALID_RECIPIENTS" } });
  });

  it("GRAPH_TOKEN_REJECTED for a token Graph does not accept, without the token in the report", async () => {
    const user = rig.addUser();
    const token = await rig.entra.mintAccessToken({
      aud: "https://outlook.office.com",
      tid: rig.tenant.id,
      upn: user.upn,
      scp: "Mail.Send",
    });
    const sent = await sendOverGraph(user.upn, token);
    expect(sent).toMatchObject({ ok: false, diagnosis: { code: "GRAPH_TOKEN_REJECTED" } });
    expect(JSON.stringify(sent)).not.toContain(token);
  });

  it("GRAPH_THROTTLED with Graph's Retry-After", async () => {
    const user = rig.addUser();
    const token = await userToken(user.upn, user.password);
    rig.entra.graph.faults.set(rig.tenant.id, { throttle: { requests: 1, retryAfterSeconds: 17 } });
    const sent = await sendOverGraph(user.upn, token);
    rig.entra.graph.faults.delete(rig.tenant.id);
    expect(sent).toMatchObject({ ok: false, diagnosis: { code: "GRAPH_THROTTLED" } });
    expect(sent.ok === false && sent.diagnosis.detail).toContain("Retry-After: 17 s");
  });

  it("GRAPH_NEEDS_OAUTH for a plain-password mailbox, and the network guard before any request", async () => {
    const user = rig.addUser();
    const plain = await check(graphSettings(user, { azureClientId: null, azureTenantId: null, signInMethod: "basic" }));
    expect(plain.failure).toMatchObject({ name: "settings", diagnosis: { code: "GRAPH_NEEDS_OAUTH" } });
    // Without an allow-list entry the emulator's port is not Graph's 443: refused before any connection.
    const calls = rig.entra.graph.calls.length;
    const guarded = await check(graphSettings(user), { allowlist: [] });
    expect(guarded.failure).toMatchObject({ name: "network", diagnosis: { code: "NETWORK_PORT_NOT_ALLOWED" } });
    expect(rig.entra.graph.calls.length).toBe(calls);
  });
});
