import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applySetup,
  diagnoseGraphError,
  graphClient,
  planSetup,
  type SetupRequest,
  setupScopes,
} from "@/lib/engine/entra-setup";
import { runChecksToEnd } from "@/lib/engine/run-checks";
import { CLOUD_PROFILES } from "@/lib/engine/settings";
import { keyAndCertificate } from "../../support/certificates";
import type { EmuTenant, EmuUser } from "../../support/rig/entra-emulator";
import { GRAPH_RESOURCE } from "../../support/rig/graph-emulator";
import { type Rig, startRig } from "../../support/rig/rig";
import { EVERY_STEP_PASSED, stepStatuses } from "../../support/steps";

// The one-click setup's Graph steps against the emulator's Graph endpoints, from a tenant with no app.
let rig: Rig;
let n = 0;

beforeAll(async () => {
  rig = await startRig();
});
afterAll(() => rig?.stop());

const SETUP_SCOPES = "Application.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All AppRoleAssignment.ReadWrite.All";

/** A tenant of its own (with the rig's mail servers' trust) and an admin with the given roles. */
function tenantWithAdmin(roles: string[] = ["Application Administrator"]) {
  const tenant = rig.tenant;
  const admin: EmuUser = rig.addUser({ roles });
  return { tenant, admin };
}

async function graphFor(tenant: EmuTenant, admin: EmuUser, scp = SETUP_SCOPES, options = {}) {
  const token = await rig.entra.mintAccessToken({
    aud: GRAPH_RESOURCE,
    iss: `https://sts.windows.net/${tenant.id}/`,
    tid: tenant.id,
    upn: admin.upn,
    scp,
  });
  return graphClient(rig.entra.authorityHost, token, options);
}

const request = (admin: EmuUser, extra: Partial<SetupRequest> = {}): SetupRequest => ({
  appName: `Navigator Mail ${++n}`,
  kind: "delegated",
  transport: "smtp_imap",
  admin: admin.upn,
  ...extra,
});

describe("one-click setup through Microsoft Graph", () => {
  it("plans everything for an empty tenant, then registers an app that passes the SMTP and IMAP test", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const wanted = request(admin);
    const plan = await planSetup(graph, wanted);
    expect(plan.application).toBeNull();
    expect(plan.steps.map((s) => [s.key, s.done])).toEqual([
      ["application", false],
      ["public-client", false],
      ["permissions", false],
      ["service-principal", false],
      ["consent", false],
    ]);
    // Looked up by name, not hard-coded: the emulator gives Exchange's permissions fresh ids per run.
    const exchange = rig.entra
      .directoryOf(tenant)
      .servicePrincipals.find((s) => s.displayName === "Office 365 Exchange Online")!;
    expect(plan.resource.permissions).toEqual(
      ["SMTP.Send", "IMAP.AccessAsUser.All"].map((value) => ({
        value,
        id: exchange.oauth2PermissionScopes.find((p) => p.value === value)!.id,
      })),
    );

    const done: string[] = [];
    const objects = await applySetup(graph, wanted, (step) => {
      done.push(step.key);
    });
    expect(done).toEqual(["application", "public-client", "permissions", "service-principal", "consent"]);
    const after = await planSetup(graph, wanted);
    expect(after.steps.every((s) => s.done)).toBe(true);
    expect(after.application?.appId).toBe(objects.appId);

    const user = rig.addUser();
    const outcome = await runChecksToEnd(rig.settings(user, { azureClientId: objects.appId }), {
      authorityHost: rig.entra.authorityHost,
      allowlist: rig.allowlist,
    });
    expect(stepStatuses(outcome)).toEqual(EVERY_STEP_PASSED);
  });

  it("never registers the app twice, and corrects an app whose settings drifted", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const wanted = request(admin);
    const first = await applySetup(graph, wanted);
    const again = await applySetup(graph, wanted);
    expect(again.appId).toBe(first.appId);
    const directory = rig.entra.directoryOf(tenant);
    expect(directory.applications.filter((a) => a.displayName === wanted.appName)).toHaveLength(1);
    expect(directory.servicePrincipals.filter((s) => s.appId === first.appId)).toHaveLength(1);
    expect(directory.grants.filter((g) => g.clientId === first.servicePrincipalId)).toHaveLength(1);

    // Someone switches public client flows off and removes a permission in the portal.
    const app = directory.applications.find((a) => a.appId === first.appId)!;
    app.isFallbackPublicClient = false;
    app.requiredResourceAccess = [];
    const plan = await planSetup(graph, wanted);
    expect(plan.steps.filter((s) => !s.done).map((s) => s.key)).toEqual(["public-client", "permissions"]);
    await applySetup(graph, wanted);
    expect(app.isFallbackPublicClient).toBe(true);
    expect(directory.applications.filter((a) => a.displayName === wanted.appName)).toHaveLength(1);
  });

  it("adds to an app's permissions and consent, never drops: other APIs and other Exchange scopes stay", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const wanted = request(admin);
    const directory = rig.entra.directoryOf(tenant);
    const exchange = directory.servicePrincipals.find((s) => s.displayName === "Office 365 Exchange Online")!;
    const ews = exchange.oauth2PermissionScopes.find((p) => p.value === "EWS.AccessAsUser.All")!;
    const fullAccess = exchange.appRoles.find((r) => r.value === "full_access_as_app")!;
    const graphUserRead = {
      resourceAppId: "00000003-0000-0000-c000-000000000000",
      resourceAccess: [{ id: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", type: "Scope" }],
    };
    // The organisation's app, already in use for EWS and Graph, with consent for EWS.
    const existing = (await graph("POST", "applications", {
      displayName: wanted.appName,
      signInAudience: "AzureADMyOrg",
      isFallbackPublicClient: true,
      requiredResourceAccess: [
        graphUserRead,
        {
          resourceAppId: exchange.appId,
          resourceAccess: [
            { id: ews.id, type: "Scope" },
            { id: fullAccess.id, type: "Role" },
          ],
        },
      ],
    })) as { id: string; appId: string };
    const sp = (await graph("POST", "servicePrincipals", { appId: existing.appId })) as { id: string };
    await graph("POST", "oauth2PermissionGrants", {
      clientId: sp.id,
      consentType: "AllPrincipals",
      resourceId: exchange.id,
      scope: "EWS.AccessAsUser.All",
    });

    const plan = await planSetup(graph, wanted);
    const label = (key: string) => plan.steps.find((s) => s.key === key)!.label;
    expect(label("permissions")).toBe(
      "Add to the app's API permissions of Office 365 Exchange Online (delegated): SMTP.Send, IMAP.AccessAsUser.All; the 3 permissions it has already stay",
    );
    expect(label("consent")).toBe(
      "Grant admin consent for SMTP.Send, IMAP.AccessAsUser.All, added to the consent the app has already; nothing granted is removed",
    );
    await applySetup(graph, wanted);

    const app = directory.applications.find((a) => a.id === existing.id)!;
    expect(app.requiredResourceAccess).toContainEqual(graphUserRead);
    const exchangeAccess = app.requiredResourceAccess.find((r) => r.resourceAppId === exchange.appId)!.resourceAccess;
    const smtp = exchange.oauth2PermissionScopes.find((p) => p.value === "SMTP.Send")!;
    const imap = exchange.oauth2PermissionScopes.find((p) => p.value === "IMAP.AccessAsUser.All")!;
    expect(exchangeAccess).toEqual([
      { id: ews.id, type: "Scope" },
      { id: fullAccess.id, type: "Role" },
      { id: smtp.id, type: "Scope" },
      { id: imap.id, type: "Scope" },
    ]);
    const grant = directory.grants.filter((g) => g.clientId === sp.id);
    expect(grant).toHaveLength(1);
    expect(grant[0]!.scope.split(" ")).toEqual(["EWS.AccessAsUser.All", "SMTP.Send", "IMAP.AccessAsUser.All"]);
    expect((await planSetup(graph, wanted)).steps.every((s) => s.done)).toBe(true);
  });

  it("finds its app again by a name with &, # and ' in it (the $filter quoted and URL-encoded)", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const wanted = request(admin, { appName: "R&D #1 O'Brien's mail" });
    const first = await applySetup(graph, wanted);
    const again = await applySetup(graph, wanted);
    expect(again.appId).toBe(first.appId);
    const plan = await planSetup(graph, wanted);
    expect(plan.steps.every((s) => s.done)).toBe(true);
    const directory = rig.entra.directoryOf(tenant);
    expect(directory.applications.filter((a) => a.displayName === wanted.appName)).toHaveLength(1);
  });

  it("resumes a setup that failed at consent (blocked by policy) without a second app", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const wanted = request(admin);
    rig.entra.graph.faults.set(tenant.id, { consentBlocked: true });
    const failed = await applySetup(graph, wanted).catch((error) => error);
    rig.entra.graph.faults.delete(tenant.id);
    expect(diagnoseGraphError(failed)).toMatchObject({ code: "SETUP_CONSENT_BLOCKED", setupStep: "admin-consent" });
    const halfway = await planSetup(graph, wanted);
    expect(halfway.steps.filter((s) => !s.done).map((s) => s.key)).toEqual(["consent"]);
    const objects = await applySetup(graph, wanted);
    expect(rig.entra.directoryOf(tenant).applications.filter((a) => a.displayName === wanted.appName)).toHaveLength(1);
    expect(objects.grantId).toBeDefined();
  });

  it("names the missing role when the admin may not register apps", async () => {
    const { tenant, admin } = tenantWithAdmin([]);
    const graph = await graphFor(tenant, admin);
    const error = await applySetup(graph, request(admin)).catch((e) => e);
    expect(diagnoseGraphError(error)).toMatchObject({ code: "SETUP_ROLE_MISSING" });
    expect(diagnoseGraphError(error).fix).toContain("Application Administrator or Cloud Application Administrator");
  });

  it("refuses an app of the same name that someone else owns", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const other = rig.addUser({ roles: ["Cloud Application Administrator"] });
    const wanted = request(admin);
    await applySetup(await graphFor(tenant, other), { ...wanted, admin: other.upn });
    const error = await planSetup(await graphFor(tenant, admin), wanted).catch((e) => e);
    expect(diagnoseGraphError(error)).toMatchObject({ code: "SETUP_NAME_TAKEN" });
  });

  it("waits out a short 429 as Retry-After asks, and reports a long one instead of sleeping", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const slept: number[] = [];
    const graph = await graphFor(tenant, admin, SETUP_SCOPES, { sleep: async (ms: number) => void slept.push(ms) });
    rig.entra.graph.faults.set(tenant.id, { throttle: { requests: 2, retryAfterSeconds: 3 } });
    const plan = await planSetup(graph, request(admin));
    expect(slept).toEqual([3000, 3000]);
    expect(plan.application).toBeNull();
    rig.entra.graph.faults.set(tenant.id, { throttle: { requests: 1, retryAfterSeconds: 120 } });
    const error = await planSetup(graph, request(admin)).catch((e) => e);
    rig.entra.graph.faults.delete(tenant.id);
    expect(diagnoseGraphError(error)).toMatchObject({ code: "SETUP_THROTTLED" });
    expect(diagnoseGraphError(error).detail).toContain("Retry-After 120 s");
  });

  it("sets up Microsoft Graph's mail permissions for a Graph mailbox, delegated and app-only, and each app passes the Graph test", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const directory = rig.entra.directoryOf(tenant);
    const graphSp = directory.servicePrincipals.find((s) => s.displayName === "Microsoft Graph")!;
    const options = {
      authorityHost: rig.entra.authorityHost,
      graphHost: rig.entra.authorityHost,
      allowlist: rig.allowlist,
    };

    // Delegated: the Graph scopes, found by name in the tenant, and a tenant-wide grant on Graph.
    const delegated = request(admin, { transport: "graph" });
    const plan = await planSetup(graph, delegated);
    expect(plan.steps.find((s) => s.key === "permissions")!.label).toBe(
      "API permissions of Microsoft Graph (delegated): Mail.Send, Mail.ReadWrite",
    );
    expect(plan.resource.permissions).toEqual(
      ["Mail.Send", "Mail.ReadWrite"].map((value) => ({
        value,
        id: graphSp.oauth2PermissionScopes.find((p) => p.value === value)!.id,
      })),
    );
    const app = await applySetup(graph, delegated);
    expect(directory.grants.find((g) => g.clientId === app.servicePrincipalId)).toMatchObject({
      resourceId: graphSp.id,
      consentType: "AllPrincipals",
      scope: "Mail.Send Mail.ReadWrite",
    });
    const user = rig.addUser();
    const overGraph = await runChecksToEnd(
      rig.settings(user, { transport: "graph", azureClientId: app.appId }),
      options,
    );
    expect(overGraph.ok, JSON.stringify(overGraph.steps.find((s) => s.status === "failed"))).toBe(true);
    expect(overGraph.steps.map((s) => s.name)).toContain("graph_send");

    // App-only: Graph's application permissions assigned on Graph's service principal.
    const credential = keyAndCertificate();
    const x509 = new X509Certificate(credential.certificatePem);
    const appOnly = request(admin, {
      kind: "app",
      transport: "graph",
      certificate: {
        der: x509.raw.toString("base64"),
        thumbprint: x509.fingerprint.replaceAll(":", ""),
        notAfter: new Date(x509.validTo),
      },
    });
    const objects = await applySetup(graph, appOnly);
    const assigned = directory.assignments.filter((a) => a.principalId === objects.servicePrincipalId);
    expect(assigned.map((a) => [a.resourceId, graphSp.appRoles.find((r) => r.id === a.appRoleId)?.value])).toEqual([
      [graphSp.id, "Mail.Send"],
      [graphSp.id, "Mail.ReadWrite"],
    ]);
    const mailbox = rig.addUser().upn;
    const outcome = await runChecksToEnd(
      {
        ...rig.settings(
          { upn: mailbox, password: "" },
          { transport: "graph", password: null, azureClientId: objects.appId },
        ),
        signInMethod: "app",
        appCredential: { kind: "certificate", ...credential },
      },
      options,
    );
    expect(outcome.ok, JSON.stringify(outcome.steps.find((s) => s.status === "failed"))).toBe(true);
  });

  it("asks a delegated Graph app for the .Shared scopes when the Login reads a shared mailbox, which then passes", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const login = rig.addUser();
    const shared = rig.addSharedMailbox();
    rig.exchange.grantFullAccess(shared, login.upn);
    rig.exchange.grantSendAs(shared, login.upn);
    const wanted = request(admin, { transport: "graph", identities: { login: login.upn, mailboxAddress: shared } });
    const plan = await planSetup(graph, wanted);
    expect(plan.steps.find((s) => s.key === "permissions")!.label).toBe(
      "API permissions of Microsoft Graph (delegated): Mail.Send.Shared, Mail.ReadWrite.Shared",
    );
    const app = await applySetup(graph, wanted);
    const outcome = await runChecksToEnd(
      rig.settings(login, { transport: "graph", azureClientId: app.appId, mailboxAddress: shared }),
      { authorityHost: rig.entra.authorityHost, graphHost: rig.entra.authorityHost, allowlist: rig.allowlist },
    );
    expect(outcome.ok, JSON.stringify(outcome.steps.find((s) => s.status === "failed"))).toBe(true);
    // The Login's own mailbox needs no more than Mail.Send and Mail.ReadWrite.
    const own = await planSetup(graph, request(admin, { transport: "graph", identities: { login: login.upn } }));
    expect(own.steps.find((s) => s.key === "permissions")!.label).toContain("Mail.Send, Mail.ReadWrite");
  });

  it("sets up app-only with the mailbox's certificate and application permissions", async () => {
    const { tenant, admin } = tenantWithAdmin();
    const graph = await graphFor(tenant, admin);
    const credential = keyAndCertificate();
    const x509 = new X509Certificate(credential.certificatePem);
    const wanted = request(admin, {
      kind: "app",
      certificate: {
        der: x509.raw.toString("base64"),
        thumbprint: x509.fingerprint.replaceAll(":", ""),
        notAfter: new Date(x509.validTo),
      },
    });
    const plan = await planSetup(graph, wanted);
    expect(plan.steps.map((s) => s.key)).toEqual([
      "application",
      "permissions",
      "certificate",
      "service-principal",
      "consent",
    ]);
    const objects = await applySetup(graph, wanted);
    expect(objects.assignmentIds).toHaveLength(2);
    // Exchange's own step (Add-MailboxPermission), which Graph cannot do:
    const mailbox = rig.addUser().upn;
    rig.exchange.grant(objects.servicePrincipalId, mailbox);
    const outcome = await runChecksToEnd(
      {
        ...rig.settings({ upn: mailbox, password: "" }, { type: "smtp", password: null, azureClientId: objects.appId }),
        signInMethod: "app",
        appCredential: { kind: "certificate", ...credential },
      },
      { authorityHost: rig.entra.authorityHost, allowlist: rig.allowlist },
    );
    expect(outcome.ok, JSON.stringify(outcome.steps.at(-1))).toBe(true);

    // Set up again with a new certificate: Graph replaces the app's list, and the plan says so first.
    const next = new X509Certificate(keyAndCertificate().certificatePem);
    const again = request(admin, {
      appName: wanted.appName,
      kind: "app",
      certificate: {
        der: next.raw.toString("base64"),
        thumbprint: next.fingerprint.replaceAll(":", ""),
        notAfter: new Date(next.validTo),
      },
    });
    const replan = await planSetup(graph, again);
    expect(replan.steps.find((s) => s.key === "certificate")).toMatchObject({
      done: false,
      label: expect.stringMatching(
        /^Replace the app's certificate with the mailbox's new certificate .* stops working$/,
      ),
    });
  });

  it("signs in with only the Graph scopes the setup needs: app-role assignment for app-only alone", () => {
    const host = CLOUD_PROFILES.usgov.graphHost;
    expect(setupScopes(host, false)).toEqual([
      "https://graph.microsoft.us/Application.ReadWrite.All",
      "https://graph.microsoft.us/DelegatedPermissionGrant.ReadWrite.All",
    ]);
    expect(setupScopes(host, true)).toContain("https://graph.microsoft.us/AppRoleAssignment.ReadWrite.All");
  });

  it("knows Graph's host in each Microsoft cloud", () => {
    expect(Object.fromEntries(Object.entries(CLOUD_PROFILES).map(([cloud, p]) => [cloud, p.graphHost]))).toEqual({
      global: "https://graph.microsoft.com",
      usgov: "https://graph.microsoft.us",
      china: "https://microsoftgraph.chinacloudapi.cn",
    });
  });
});
