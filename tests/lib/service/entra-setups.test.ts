import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Db } from "@/db/client";
import { auditLog, entraSetups, mailboxes, mailboxTests, tenants } from "@/db/schema";
import { open } from "@/lib/crypto/seal";
import { signInWithDeviceCode } from "@/lib/engine/device-code";
import { NotFoundError, UserError } from "@/lib/errors";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import {
  confirmEntraSetup,
  deleteCreatedApplication,
  getEntraSetup,
  setupKeyContext,
  startEntraSetup,
} from "@/lib/service/entra-setups/flow";
import { SETUP_LIMITS } from "@/lib/service/entra-setups/limits";
import { entraSetupStartSchema } from "@/lib/service/entra-setups/schema";
import { type EntraSetupView, servicePrincipalOf } from "@/lib/service/entra-setups/view";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { checkSettingsFor } from "@/lib/service/test-settings";
import { createTenant } from "@/lib/tenants/queries";
import { createUser } from "@/lib/users/queries";
import { asActor, freshDb, seedWorld, type World } from "../../support/db";
import type { EmuUser } from "../../support/rig/entra-emulator";
import { type Rig, startRig } from "../../support/rig/rig";

// "Set up in Microsoft Entra for me" through the service, against the emulator's Entra and Graph.
let rig: Rig;
let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  rig = await startRig();
  rig.entra.deviceCodeInterval = 1;
  rig.addSetupClient();
  Object.assign(process.env, {
    ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
    ENTRA_GRAPH_HOST: rig.entra.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
  });
  db = await freshDb();
  world = await seedWorld(db);
});
afterAll(() => rig?.stop());

/** A mailbox as an admin adds it before any app exists: Login and Password, no Azure fields. */
async function bareMailbox(tenantId = world.tenantA.id, extra: Record<string, string> = {}) {
  const user = rig.addUser();
  const form = rig.mailboxForm(user, { name: `Bare ${++n}`, azureClientId: "", azureTenantId: "", ...extra });
  return createMailbox(db, world.root, saveMailboxSchema.parse({ tenantId: String(tenantId), ...form }));
}

async function settled(
  ref: { tenantId: number; mailboxId: number | null },
  id: string,
  until: EntraSetupView["status"][],
) {
  for (let i = 0; i < 100; i++) {
    const view = await getEntraSetup(db, world.root, ref, id);
    if (until.includes(view.status)) return view;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`setup still ${(await getEntraSetup(db, world.root, ref, id)).status}`);
}

async function signedIn(admin: EmuUser, appName = `Navigator Mail ${++n}`) {
  const mailbox = await bareMailbox();
  const ref = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
  const started = await startEntraSetup(db, world.root, ref, { directory: "contoso.onmicrosoft.com", appName });
  if (!started.ok) throw new Error(started.refusal.message);
  expect(started.setup).toMatchObject({ status: "waiting", verificationUri: "https://microsoft.com/devicelogin" });
  rig.entra.approveDeviceCode(started.setup.userCode!, admin.upn);
  const planned = await settled(ref, started.setup.id, ["planned", "failed"]);
  return { mailbox, ref, setup: planned };
}

describe("Set up in Microsoft Entra for me", () => {
  it("signs in, plans, registers the app, proves it with a test, and only then fills ClientID and TenantID", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const { mailbox, ref, setup } = await signedIn(admin);
    expect(setup.status).toBe("planned");
    expect(setup.admin).toBe(admin.upn);
    expect(setup.steps.map((s) => s.done)).toEqual([false, false, false, false, false]);
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!.azureClientId).toBeNull();
    // Until the confirm, the admin's Graph token waits sealed in the setup's row, for any portal process.
    const waiting = (await db.select().from(entraSetups).where(eq(entraSetups.id, setup.id)))[0]!;
    expect(waiting.graphTokenSealed).toMatch(/^v1\./);
    expect(JSON.stringify(waiting)).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./);

    const done = await confirmEntraSetup(db, world.root, ref, setup.id);
    expect(done.status).toBe("done");
    expect(done.steps.every((s) => s.done && s.objectId)).toBe(true);
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    expect(saved).toMatchObject({
      azureClientId: done.appId,
      azureTenantId: rig.tenant.id,
      version: mailbox.version + 1,
    });
    expect(done.testId).toBeGreaterThan(0);
    const audit = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, String(mailbox.id)));
    expect(audit.filter((a) => a.action === "mailbox.entra_setup")).toHaveLength(5);
    expect(JSON.stringify(audit)).toContain(done.appId!);
    // The Graph token was used for this setup only: no row of the setup, the audit log or the view holds it.
    const stored = JSON.stringify([await db.select().from(entraSetups), await db.select().from(auditLog), done]);
    expect(stored).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./);
    expect((await db.select().from(entraSetups).where(eq(entraSetups.id, setup.id)))[0]).toMatchObject({
      graphTokenSealed: null,
      graphTokenUntil: null,
    });
  });

  it("registers an app that also signs in with a device code (Microsoft sign-in), MFA account included", async () => {
    const admin = rig.addUser({ roles: ["Cloud Application Administrator"] });
    const { mailbox, ref, setup } = await signedIn(admin);
    const done = await confirmEntraSetup(db, world.adminA, ref, setup.id);
    expect(done.status).toBe("done");
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    const user = rig.tenant.users.find((u) => u.upn === saved.login)!;
    user.mfa = "required";
    const end = await signInWithDeviceCode({
      settings: { ...checkSettingsFor(saved), password: null, signInMethod: "device" },
      authorityHost: rig.entra.authorityHost,
      onPrompt: (prompt) => rig.entra.approveDeviceCode(prompt.userCode, user.upn),
    });
    expect(end).toMatchObject({ ok: true, account: user.upn });
  });

  it("waits for a new app to reach Entra's replicas before calling the test failed", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const { mailbox, ref, setup } = await signedIn(admin);
    rig.entra.graph.propagationMs = 1_500;
    const done = await confirmEntraSetup(db, world.root, ref, setup.id, { propagationWaitsMs: [2_000] });
    rig.entra.graph.propagationMs = 0;
    expect(done.status).toBe("done");
    const tests = await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, mailbox.id));
    expect(tests.map((t) => [t.outcome, t.failureCode])).toEqual([
      ["failed", "AADSTS700016"],
      ["passed", null],
    ]);
  });

  it("pressed twice, shows the same setup; never two apps", async () => {
    const mailbox = await bareMailbox();
    const ref = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
    const input = { directory: "contoso.onmicrosoft.com", appName: `Twice ${++n}` };
    const [a, b] = await Promise.all([
      startEntraSetup(db, world.root, ref, input),
      startEntraSetup(db, world.root, ref, input),
    ]);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(a.setup.id).toBe(b.setup.id);
  });

  it("refuses a guest's sign-in, with the reason", async () => {
    const guest = rig.addUser({ roles: ["Application Administrator"], guest: true });
    const { setup } = await signedIn(guest);
    expect(setup).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_NOT_MEMBER", setupStep: "account" } });
  });

  it("refuses a personal Microsoft account, invited as a guest or not in the organisation at all, with the reason", async () => {
    const invited = rig.addUser({ roles: ["Application Administrator"], personal: true });
    const { setup } = await signedIn(invited);
    expect(setup).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_NOT_MEMBER" } });
    expect(setup.diagnosis!.fix).toContain("not a guest or an outlook.com account");

    const mailbox = await bareMailbox();
    const ref = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
    const started = await startEntraSetup(db, world.root, ref, { directory: "contoso.com", appName: `MSA ${++n}` });
    if (!started.ok) throw new Error(started.refusal.message);
    rig.entra.approveDeviceCodeAsOutsider(started.setup.userCode!, "someone@outlook.com");
    const outsider = await settled(ref, started.setup.id, ["planned", "failed"]);
    expect(outsider).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_NOT_MEMBER" } });
    expect(outsider.diagnosis!.detail).toContain("AADSTS50020");
    expect(outsider.diagnosis!.detail).toContain("someone@outlook.com");
  });

  it("names the missing roles before any plan, and creates nothing in the organisation or the portal", async () => {
    const plain = rig.addUser();
    const appName = `Navigator Mail ${++n}`;
    const writesBefore = rig.entra.graph.calls.filter((c) => c.method !== "GET").length;
    const { mailbox, setup, ref } = await signedIn(plain, appName);
    expect(setup).toMatchObject({ status: "failed", steps: [], diagnosis: { code: "SETUP_ROLE_MISSING" } });
    expect(setup.diagnosis?.detail).toContain("Application Administrator, Cloud Application Administrator");
    // Confirming anyway does nothing: there is no plan to apply. (Members may register apps by
    // default, so before the role check this registered an app and left it behind.)
    expect(await confirmEntraSetup(db, world.root, ref, setup.id)).toMatchObject({
      status: "failed",
      diagnosis: { code: "SETUP_ROLE_MISSING" },
    });
    const directory = rig.entra.directoryOf(rig.tenant);
    expect(directory.applications.filter((a) => a.displayName === appName)).toEqual([]);
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
    expect(rig.entra.graph.calls.filter((c) => c.method !== "GET")).toHaveLength(writesBefore);
  });

  it("asks Graph for the user's directory roles when the token carries no wids, and refuses a helpdesk admin", async () => {
    rig.entra.widsInTokens = false;
    try {
      const helpdesk = rig.addUser({ roles: ["Helpdesk Administrator"] });
      const appName = `Navigator Mail ${++n}`;
      const { setup } = await signedIn(helpdesk, appName);
      expect(setup).toMatchObject({ status: "failed", steps: [], diagnosis: { code: "SETUP_ROLE_MISSING" } });
      expect(rig.entra.directoryOf(rig.tenant).applications.filter((a) => a.displayName === appName)).toEqual([]);
      // A Privileged Role Administrator may consent: the plan is shown.
      const privileged = rig.addUser({ roles: ["Privileged Role Administrator"] });
      expect((await signedIn(privileged)).setup.status).toBe("planned");
    } finally {
      rig.entra.widsInTokens = true;
    }
  });

  it("says when it stopped after registering an app, offers to delete it, and deletes only that, audited", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const { mailbox, ref, setup } = await signedIn(admin);
    rig.entra.graph.faults.set(rig.tenant.id, { consentBlocked: true });
    const failed = await confirmEntraSetup(db, world.adminA, ref, setup.id);
    rig.entra.graph.faults.delete(rig.tenant.id);
    expect(failed).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_CONSENT_BLOCKED" } });
    const directory = rig.entra.directoryOf(rig.tenant);
    const app = directory.applications.find((a) => a.displayName === setup.appName)!;
    expect(failed.createdApplication).toEqual({ objectId: app.id, deletable: true, deletedAt: null });

    // Another tenant's admin cannot see it, let alone delete it.
    await expect(deleteCreatedApplication(db, world.adminB, ref, setup.id)).rejects.toBeInstanceOf(NotFoundError);
    const other = { tenantId: world.tenantB.id, mailboxId: null };
    await expect(deleteCreatedApplication(db, world.adminB, other, setup.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(directory.applications).toContain(app);

    const deleted = await deleteCreatedApplication(db, world.adminA, ref, setup.id);
    expect(deleted).toMatchObject({ status: "failed", appId: null, createdApplication: { deletable: false } });
    expect(deleted.createdApplication?.deletedAt).toBeTruthy();
    expect(deleted.steps.every((s) => !s.done)).toBe(true);
    const ended = (await db.select().from(entraSetups).where(eq(entraSetups.id, setup.id)))[0]!;
    expect(ended).toMatchObject({ graphTokenSealed: null, graphTokenUntil: null });
    expect(directory.applications.filter((a) => a.displayName === setup.appName)).toEqual([]);
    expect(directory.servicePrincipals.filter((s) => s.appId === app.appId)).toEqual([]);
    const audit = (
      await db
        .select()
        .from(auditLog)
        .where(eq(auditLog.targetId, String(mailbox.id)))
    ).filter((a) => a.action === "mailbox.entra_setup_deleted");
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0]!.changes)).toContain(app.id);
    // Pressed again (a replay, a second tab): refused, nothing else deleted.
    await expect(deleteCreatedApplication(db, world.adminA, ref, setup.id)).rejects.toBeInstanceOf(UserError);
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
  });

  it("never offers to delete an app it found rather than registered", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const appName = `Navigator Mail ${++n}`;
    const first = await signedIn(admin, appName);
    rig.entra.graph.faults.set(rig.tenant.id, { consentBlocked: true });
    await confirmEntraSetup(db, world.root, first.ref, first.setup.id);
    rig.entra.graph.faults.delete(rig.tenant.id);
    // A second setup of the same name by the same admin finds that app and fails at consent again.
    const second = await signedIn(admin, appName);
    expect(second.setup.steps.find((s) => s.key === "application")?.done).toBe(true);
    rig.entra.graph.faults.set(rig.tenant.id, { consentBlocked: true });
    const failed = await confirmEntraSetup(db, world.root, second.ref, second.setup.id);
    rig.entra.graph.faults.delete(rig.tenant.id);
    expect(failed).toMatchObject({ status: "failed", createdApplication: null });
    await expect(deleteCreatedApplication(db, world.root, second.ref, second.setup.id)).rejects.toBeInstanceOf(
      UserError,
    );
    expect(rig.entra.directoryOf(rig.tenant).applications.filter((a) => a.displayName === appName)).toHaveLength(1);
  });

  it("resumes after consent was blocked halfway, with one app and the mailbox untouched until then", async () => {
    const admin = rig.addUser({ roles: ["Cloud Application Administrator"] });
    const { mailbox, ref, setup } = await signedIn(admin);
    rig.entra.graph.faults.set(rig.tenant.id, { consentBlocked: true });
    const halfway = await confirmEntraSetup(db, world.root, ref, setup.id);
    rig.entra.graph.faults.delete(rig.tenant.id);
    expect(halfway).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_CONSENT_BLOCKED" } });
    expect(halfway.steps.filter((s) => !s.done).map((s) => s.key)).toEqual(["consent"]);
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
    const done = await confirmEntraSetup(db, world.root, ref, setup.id);
    expect(done.status).toBe("done");
    expect(rig.entra.directoryOf(rig.tenant).applications.filter((a) => a.displayName === setup.appName)).toHaveLength(
      1,
    );
  });

  it("sets up the tenant's default app registration from the tenant page, audited on the tenant", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const ref = { tenantId: world.tenantB.id, mailboxId: null };
    const started = await startEntraSetup(db, world.adminB, ref, {
      directory: rig.tenant.id,
      appName: `Tenant ${++n}`,
    });
    if (!started.ok) throw new Error(started.refusal.message);
    rig.entra.approveDeviceCode(started.setup.userCode!, admin.upn);
    for (
      let i = 0;
      i < 100 && (await getEntraSetup(db, world.adminB, ref, started.setup.id)).status !== "planned";
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Another tenant's admin sees nothing of it; a mailbox's setup is not the tenant's.
    await expect(getEntraSetup(db, world.adminA, ref, started.setup.id)).rejects.toThrow(NotFoundError);
    const done = await confirmEntraSetup(db, world.adminB, ref, started.setup.id);
    expect(done.status).toBe("done");
    const tenant = (await db.select().from(tenants).where(eq(tenants.id, world.tenantB.id)))[0]!;
    expect(tenant).toMatchObject({ defaultAzureClientId: done.appId, defaultAzureTenantId: rig.tenant.id });
    const audit = await db.select().from(auditLog).where(eq(auditLog.action, "tenant.entra_setup"));
    expect(audit.filter((a) => a.tenantId === world.tenantB.id)).toHaveLength(5);
  });

  it("sets up app-only: a new certificate and application permissions, the Exchange PowerShell with the app's object ID, and the mailbox switched only once a test proves it", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    // The tenant's own admin: root has used up its tests per minute in this file.
    const mailbox = await bareMailbox();
    const ref = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
    const appName = `App-only ${++n}`;
    const started = await startEntraSetup(db, world.adminA, ref, { directory: "contoso.com", appName, kind: "app" });
    if (!started.ok) throw new Error(started.refusal.message);
    rig.entra.approveDeviceCode(started.setup.userCode!, admin.upn);
    const planned = await settled(ref, started.setup.id, ["planned", "failed"]);
    expect(planned.kind).toBe("app");
    expect(planned.steps.map((s) => s.key)).toEqual([
      "application",
      "permissions",
      "certificate",
      "service-principal",
      "consent",
    ]);
    expect(planned.steps.find((s) => s.key === "permissions")!.label).toContain("SMTP.SendAsApp, IMAP.AccessAsApp");

    // Graph does its part; Exchange does not know the app yet, so the test says what to run there.
    const first = await confirmEntraSetup(db, world.adminA, ref, started.setup.id, { propagationWaitsMs: [] });
    expect(first).toMatchObject({ status: "applied", diagnosis: { setupStep: "exchange-app-access" } });
    const directory = rig.entra.directoryOf(rig.tenant);
    const app = directory.applications.find((a) => a.appId === first.appId)!;
    expect(app.keyCredentials).toHaveLength(1);
    expect(app.isFallbackPublicClient).toBe(false);
    const sp = directory.servicePrincipals.find((p) => p.appId === first.appId)!;
    const access = first.exchange.find((e) => e.key === "exchange-app-access")!;
    expect(access.status).toBe("failed");
    expect(access.command).toContain(`New-ServicePrincipal -AppId '${first.appId}' -ObjectId '${sp.id}'`);
    expect(access.command).toContain(`Add-MailboxPermission -Identity '${mailbox.login}' -User '${sp.id}'`);
    expect(first.exchange.map((e) => e.key)).toEqual(["exchange-app-access", "exchange-smtp-auth", "exchange-imap"]);
    // Nothing in the portal changed, and the key waits sealed in the setup, never in the clear.
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
    const row = (await db.select().from(entraSetups).where(eq(entraSetups.id, started.setup.id)))[0]!;
    expect(JSON.stringify(row)).not.toContain("PRIVATE KEY");
    expect(open(row.privateKeySealed!, setupKeyContext(row))).toContain("BEGIN PRIVATE KEY");

    // The admin runs the PowerShell; Test again proves it without Graph (its token may be long gone).
    rig.exchange.grant(sp.id, mailbox.login);
    const done = await confirmEntraSetup(db, world.adminA, ref, started.setup.id, { propagationWaitsMs: [] });
    expect([done.status, done.diagnosis?.detail]).toEqual(["done", undefined]);
    expect(done.exchange.every((e) => e.status === "passed")).toBe(true);
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    expect(saved).toMatchObject({
      signInMethod: "app",
      azureClientId: first.appId,
      azureTenantId: rig.tenant.id,
      certificatePem: row.certificatePem,
      passwordSealed: null,
    });
    expect(
      (await db.select().from(entraSetups).where(eq(entraSetups.id, started.setup.id)))[0]!.privateKeySealed,
    ).toBeNull();
    // The setup checklist's PowerShell names the app's Enterprise application from now on.
    expect(await servicePrincipalOf(db, saved)).toBe(sp.id);
    expect(await servicePrincipalOf(db, { ...saved, azureClientId: crypto.randomUUID() })).toBeUndefined();
    // The key moved into the mailbox works: a test of the saved settings passes.
    const test = await startMailboxTest(db, world.adminA, { ...ref, source: "saved" });
    if (!test.ok) throw new Error(test.refusal.message);
    expect((await testToEnd(test, { id: mailbox.id, name: mailbox.name, tenant: "" })).ok).toBe(true);
  });

  it("sets up a Graph mailbox with Microsoft Graph's permissions, and shows the RBAC for Applications lines for app-only", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    // A tenant and admin of its own: the other cases count setups per tenant and tests per admin.
    const tenant = await createTenant(db, world.root, { name: "Gamma", slug: "gamma" });
    const gammaAdmin = asActor(
      await createUser(db, world.root, {
        email: "g@gamma.example",
        name: "Gil",
        role: "tenant_admin",
        tenantId: tenant.id,
        password: "a gamma password 1",
      }),
    );
    const mailbox = await bareMailbox(tenant.id, { transport: "graph" });
    const ref = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
    const started = await startEntraSetup(db, gammaAdmin, ref, {
      directory: "contoso.com",
      appName: `Graph app-only ${++n}`,
      kind: "app",
    });
    if (!started.ok) throw new Error(started.refusal.message);
    rig.entra.approveDeviceCode(started.setup.userCode!, admin.upn);
    const planned = await settled(ref, started.setup.id, ["planned", "failed"]);
    expect(planned.steps.find((s) => s.key === "permissions")!.label).toBe(
      "API permissions of Microsoft Graph (application): Mail.Send, Mail.ReadWrite",
    );
    const done = await confirmEntraSetup(db, gammaAdmin, ref, started.setup.id, { propagationWaitsMs: [] });
    expect([done.status, done.diagnosis?.code]).toEqual(["done", undefined]);
    const sp = rig.entra.directoryOf(rig.tenant).servicePrincipals.find((p) => p.appId === done.appId)!;
    // No SMTP AUTH or IMAP steps for a Graph mailbox: the scope that limits the app to it, ticked by the test.
    expect(done.exchange.map((e) => [e.key, e.status])).toEqual([["graph-app-scope", "passed"]]);
    const lines = done.exchange[0]!.command!;
    expect(lines).toContain(`New-ServicePrincipal -AppId '${done.appId}' -ObjectId '${sp.id}'`);
    expect(lines).toContain(`New-ManagementRoleAssignment -App '${done.appId}' -Role 'Application Mail.Send'`);
    expect(lines).toContain(`PrimarySmtpAddress -eq ''${mailbox.login}''`);
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    expect(saved).toMatchObject({ signInMethod: "app", transport: "graph", azureClientId: done.appId });
  });

  it("asks the organisation's own cloud for Graph, and names the cloud when the wrong one is chosen", async () => {
    const { tenant: gov, admin } = rig.addGovTenant();
    // A portal tenant of its own: Beta is bound to the Global organisation by an earlier setup.
    const govTenant = await createTenant(db, world.root, { name: "Fabrikam US", slug: `fabrikam-us-${++n}` });
    const ref = { tenantId: govTenant.id, mailboxId: null };
    const input = { directory: "fabrikam.onmicrosoft.us", appName: `Gov ${++n}` };
    const wrong = await startEntraSetup(db, world.root, ref, { ...input, cloud: "global" });
    if (!wrong.ok) throw new Error(wrong.refusal.message);
    const refused = await settled(ref, wrong.setup.id, ["failed", "planned"]);
    expect(refused).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_WRONG_CLOUD" } });

    const right = await startEntraSetup(db, world.root, ref, { ...input, cloud: "usgov" });
    if (!right.ok) throw new Error(right.refusal.message);
    rig.entra.approveDeviceCode(right.setup.userCode!, admin.upn);
    const planned = await settled(ref, right.setup.id, ["failed", "planned"]);
    expect(planned.status).toBe("planned");
    const done = await confirmEntraSetup(db, world.root, ref, right.setup.id);
    expect(done.status).toBe("done");
    expect(rig.entra.directoryOf(gov).applications.map((a) => a.appId)).toContain(done.appId);
    const tenant = (await db.select().from(tenants).where(eq(tenants.id, govTenant.id)))[0]!;
    expect(tenant).toMatchObject({ defaultAzureClientId: done.appId, defaultCloud: "usgov" });
  });

  it("confirmed twice at once (a double click, two tabs), applies once: one app, one set of audit rows", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const { mailbox, ref, setup } = await signedIn(admin);
    const [a, b] = await Promise.all([
      confirmEntraSetup(db, world.adminA, ref, setup.id),
      confirmEntraSetup(db, world.adminA, ref, setup.id),
    ]);
    expect([a.status, b.status].sort()).toEqual(["applying", "done"]);
    expect(rig.entra.directoryOf(rig.tenant).applications.filter((x) => x.displayName === setup.appName)).toHaveLength(
      1,
    );
    const audit = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, String(mailbox.id)));
    expect(audit.filter((x) => x.action === "mailbox.entra_setup")).toHaveLength(5);
  });

  it("never uses another setup's Graph token copied into a row: the confirm asks for a new sign-in", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const first = await signedIn(admin);
    const second = await signedIn(admin);
    const donor = (await db.select().from(entraSetups).where(eq(entraSetups.id, first.setup.id)))[0]!;
    await db
      .update(entraSetups)
      .set({ graphTokenSealed: donor.graphTokenSealed, graphTokenUntil: donor.graphTokenUntil })
      .where(eq(entraSetups.id, second.setup.id));
    const apps = rig.entra.directoryOf(rig.tenant).applications.length;
    const refused = await confirmEntraSetup(db, world.adminA, second.ref, second.setup.id);
    expect(refused).toMatchObject({ status: "failed", diagnosis: { code: "SETUP_SIGNED_OUT" } });
    expect(rig.entra.directoryOf(rig.tenant).applications).toHaveLength(apps);
    // The token's own setup still registers its app with it.
    const own = await confirmEntraSetup(db, world.adminA, first.ref, first.setup.id);
    expect(own.steps.every((step) => step.done)).toBe(true);
    expect(rig.entra.directoryOf(rig.tenant).applications).toHaveLength(apps + 1);
  });

  it("limits the setups waiting for their sign-in per tenant, and the setups a tenant starts an hour", async () => {
    const tenant = await createTenant(db, world.root, { name: `Busy ${++n}`, slug: `busy-${n}` });
    const input = { directory: "contoso.com", appName: "Navigator Mail" };
    const start = (mailboxId: number) => startEntraSetup(db, world.root, { tenantId: tenant.id, mailboxId }, input);
    const boxes = await Promise.all(
      Array.from({ length: SETUP_LIMITS.signingInPerTenant + 1 }, async () => bareMailbox(tenant.id)),
    );
    for (const box of boxes.slice(0, -1)) expect((await start(box.id)).ok).toBe(true);
    const refused = await start(boxes.at(-1)!.id);
    expect(refused).toMatchObject({ ok: false, refusal: { kind: "capacity" } });
    // Another tenant is not held up by this one.
    expect(
      (
        await startEntraSetup(
          db,
          world.root,
          { tenantId: world.tenantA.id, mailboxId: (await bareMailbox()).id },
          input,
        )
      ).ok,
    ).toBe(true);

    // Twenty started in the last hour (ended, so none is waiting): the next is refused until later.
    await db
      .update(entraSetups)
      .set({ status: "failed", expiresAt: new Date(Date.now() - 1_000) })
      .where(eq(entraSetups.tenantId, tenant.id));
    const ended = { tenantId: tenant.id, kind: "delegated" as const, appName: "x", directory: "contoso.com" };
    for (let i = 0; i < SETUP_LIMITS.startsPerTenantPerHour; i++)
      await db
        .insert(entraSetups)
        .values({ ...ended, id: `hour-${n}-${i}`, status: "failed", startedBy: "root", createdAt: new Date() });
    expect(await start(boxes.at(-1)!.id)).toMatchObject({ ok: false, refusal: { kind: "rate_limited" } });
  });

  it("refuses what the form cannot send: another kind or cloud, an oversized name or domain", () => {
    const ok = { directory: "contoso.com", appName: "Navigator Mail" };
    const refused = (input: Record<string, unknown>) =>
      Object.keys(z.flattenError(entraSetupStartSchema.safeParse({ ...ok, ...input }).error!).fieldErrors);
    expect(entraSetupStartSchema.safeParse({ ...ok, kind: "app", cloud: "usgov" }).success).toBe(true);
    expect(refused({ kind: "owner" })).toEqual(["kind"]);
    expect(refused({ cloud: "mars" })).toEqual(["cloud"]);
    expect(refused({ appName: "x".repeat(121) })).toEqual(["appName"]);
    expect(refused({ directory: `${"a".repeat(250)}.com` })).toEqual(["directory"]);
    expect(refused({ directory: "https://evil.example/x" })).toEqual(["directory"]);
  });

  it("refuses app-only for the tenant's default app registration", async () => {
    const started = await startEntraSetup(
      db,
      world.adminB,
      { tenantId: world.tenantB.id, mailboxId: null },
      { directory: rig.tenant.id, appName: `Tenant app-only ${++n}`, kind: "app" },
    );
    expect(started).toMatchObject({
      ok: false,
      refusal: { fieldErrors: { kind: [expect.stringMatching(/mailbox/)] } },
    });
  });

  it("hides a setup from another tenant's admin, and from another mailbox", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const { ref, setup } = await signedIn(admin);
    await expect(getEntraSetup(db, world.adminB, ref, setup.id)).rejects.toThrow(NotFoundError);
    await expect(
      getEntraSetup(db, world.adminB, { tenantId: world.tenantB.id, mailboxId: ref.mailboxId }, setup.id),
    ).rejects.toThrow(NotFoundError);
    const other = await bareMailbox();
    await expect(
      getEntraSetup(db, world.root, { tenantId: other.tenantId, mailboxId: other.id }, setup.id),
    ).rejects.toThrow(NotFoundError);
    await expect(confirmEntraSetup(db, world.adminB, ref, setup.id)).rejects.toThrow(NotFoundError);
  });
});
