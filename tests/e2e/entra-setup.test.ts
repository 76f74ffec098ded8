import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, mailboxes } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant, getTenantBySlugFor } from "@/lib/tenants/queries";
import { launchBrowser, signInWith, tenantAdminPage } from "../support/browser";
import { closeOpened } from "../support/db";
import type { Portal } from "../support/portal";
import type { EmuUser } from "../support/rig/entra-emulator";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

// From a mailbox with only Login and Password to a passed test: one sign-in and one confirmation.
let rig: Rig;
let portal: Portal;
let db: Db;
let root: UserActor;
let browser: Browser;
let page: Page;
let n = 0;

beforeAll(async () => {
  rig = await startRig();
  rig.entra.deviceCodeInterval = 1;
  rig.addSetupClient();
  [{ portal, db, root }, browser] = await Promise.all([
    startRigPortal(rig, { ENTRA_GRAPH_HOST: rig.entra.authorityHost }),
    launchBrowser(),
  ]);
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signInWith(page, portal.url, portal.admin.email, portal.admin.password);
  await page.waitForURL(`${portal.url}/tenants`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (db) await closeOpened(db);
  await portal?.stop();
  await rig?.stop();
});

/** A tenant and a mailbox as an administrator enters them before any app exists: no Azure fields. */
async function openBareMailbox() {
  const slug = `setup-${++n}`;
  const tenant = await createTenant(db, root, { name: `Setup ${n}`, slug });
  const form = rig.mailboxForm(rig.addUser(), { name: "Orders", azureClientId: "", azureTenantId: "" });
  const mailbox = await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
  await page.goto(`${portal.url}/tenants/${slug}/mailboxes/${mailbox.id}`);
  return mailbox;
}

async function signInAtMicrosoft(admin: EmuUser, on: Page = page): Promise<void> {
  const code = on.locator(".user-code");
  await code.waitFor({ timeout: 10_000 });
  rig.entra.approveDeviceCode((await code.textContent()) ?? "", admin.upn);
}

describe("Set up in Microsoft Entra for me, in the browser", () => {
  it("goes from a mailbox with no app to a passed test with one sign-in and one confirmation", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const mailbox = await openBareMailbox();
    const started = Date.now();
    let inputs = 0;
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    inputs++;
    await signInAtMicrosoft(admin);
    inputs++; // the sign-in at Microsoft
    const confirm = page.getByRole("button", { name: "Confirm and set up" });
    await confirm.waitFor({ timeout: 20_000 });
    const plan = await page.locator("ol.plan li").allTextContents();
    expect(plan.join("\n")).toMatch(/Register the app "Navigator Mail", single tenant/);
    expect(plan.join("\n")).toContain("Allow public client flows: Yes");
    expect(plan.join("\n")).toContain("SMTP.Send, IMAP.AccessAsUser.All");
    expect(plan.join("\n")).toContain("Grant admin consent");
    // Nothing exists before the confirmation.
    expect(rig.entra.directoryOf(rig.tenant).applications.filter((a) => a.displayName === "Navigator Mail")).toEqual(
      [],
    );
    await confirm.click();
    inputs++;
    await page.locator('[data-entra-setup="done"]').waitFor({ timeout: 60_000 });
    const seconds = (Date.now() - started) / 1000;
    console.log(`one-click setup: ${seconds.toFixed(1)} s from the button to a passed test, ${inputs} inputs`);
    expect(seconds).toBeLessThan(60);
    expect(inputs).toBeLessThanOrEqual(6);
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    expect(saved.azureTenantId).toBe(rig.tenant.id);
    expect(rig.entra.directoryOf(rig.tenant).applications.map((a) => a.appId)).toContain(saved.azureClientId);
    // The page now shows the saved app and a passed test.
    await page.reload();
    expect(await page.getByLabel("Azure Application ClientID").inputValue()).toBe(saved.azureClientId);
    expect(await page.textContent("body")).toMatch(/Passed/);
    expect(await page.locator('[data-entra-setup="done"]').textContent()).toContain(saved.azureClientId!);
  }, 120_000);

  it("sets up the tenant's default app registration from the tenant page", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const slug = `setup-tenant-${++n}`;
    await createTenant(db, root, { name: `Tenant ${n}`, slug });
    await page.goto(`${portal.url}/tenants/${slug}/settings`);
    const section = page.locator("section", { has: page.locator("#entra-setup") });
    await section.getByLabel("Your organisation's domain or TenantID").fill("contoso.com");
    await section.getByLabel("App name").fill(`Default ${n}`);
    await section.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin);
    await section.getByRole("button", { name: "Confirm and set up" }).click({ timeout: 20_000 });
    const done = section.locator('[data-entra-setup="done"]');
    await done.waitFor({ timeout: 30_000 });
    expect(await done.textContent()).toContain("default app registration");
    await page.reload();
    const app = rig.entra.directoryOf(rig.tenant).applications.find((a) => a.displayName === `Default ${n}`)!;
    expect(await page.getByLabel("Azure Application ClientID").inputValue()).toBe(app.appId);
  }, 60_000);

  it("names the missing role, with the fix, before any plan, and leaves the mailbox and the organisation as they were", async () => {
    const plain = rig.addUser();
    const mailbox = await openBareMailbox();
    const appName = `No role ${n}`;
    await page.getByLabel("App name").fill(appName);
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(plain);
    const failure = page.locator('[data-entra-setup-failure="SETUP_ROLE_MISSING"]');
    await failure.waitFor({ timeout: 20_000 });
    expect(await failure.textContent()).toContain("Application Administrator or Cloud Application Administrator");
    expect(await page.getByRole("button", { name: "Confirm and set up" }).count()).toBe(0);
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
    expect(rig.entra.directoryOf(rig.tenant).applications.filter((a) => a.displayName === appName)).toEqual([]);
  }, 60_000);

  it("stopped after registering the app, offers to delete it, and deletes it", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    await openBareMailbox();
    const appName = `Left behind ${n}`;
    await page.getByLabel("App name").fill(appName);
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin);
    rig.entra.graph.faults.set(rig.tenant.id, { consentBlocked: true });
    await page.getByRole("button", { name: "Confirm and set up" }).click({ timeout: 20_000 });
    const offer = page.locator('[data-created-app="offered"]');
    await offer.waitFor({ timeout: 20_000 });
    rig.entra.graph.faults.delete(rig.tenant.id);
    const directory = rig.entra.directoryOf(rig.tenant);
    const app = directory.applications.find((a) => a.displayName === appName)!;
    expect(await offer.textContent()).toContain(app.id);
    await page.getByRole("button", { name: "Delete the app the setup created" }).click();
    await page.locator('[data-created-app="deleted"]').waitFor({ timeout: 20_000 });
    expect(directory.applications.filter((a) => a.displayName === appName)).toEqual([]);
  }, 60_000);

  it("resumes after the consent was blocked by policy, without a second app", async () => {
    const admin = rig.addUser({ roles: ["Cloud Application Administrator"] });
    const mailbox = await openBareMailbox();
    const appName = `Blocked ${n}`;
    await page.getByLabel("App name").fill(appName);
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin);
    rig.entra.graph.faults.set(rig.tenant.id, { consentBlocked: true });
    await page.getByRole("button", { name: "Confirm and set up" }).click({ timeout: 20_000 });
    await page.locator('[data-entra-setup-failure="SETUP_CONSENT_BLOCKED"]').waitFor({ timeout: 20_000 });
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
    // What was done stays done; only the consent is left, and Resume does just that.
    expect(
      await page
        .locator('ol.plan li[data-done="false"]')
        .evaluateAll((items) => items.map((li) => li.getAttribute("data-step"))),
    ).toEqual(["consent"]);
    rig.entra.graph.faults.delete(rig.tenant.id);
    await page.getByRole("button", { name: "Resume the setup" }).click();
    await page.locator('[data-entra-setup="done"]').waitFor({ timeout: 30_000 });
    expect(rig.entra.directoryOf(rig.tenant).applications.filter((a) => a.displayName === appName)).toHaveLength(1);
  }, 60_000);

  it("refuses an app of the same name that someone else owns, and waits out Graph's short 429", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const owner = rig.addUser({ roles: ["Application Administrator"] });
    rig.entra.directoryOf(rig.tenant).applications.push({
      id: crypto.randomUUID(),
      appId: crypto.randomUUID(),
      displayName: "Taken",
      signInAudience: "AzureADMyOrg",
      isFallbackPublicClient: false,
      requiredResourceAccess: [],
      keyCredentials: [],
      ownerUpns: [owner.upn],
    });
    await openBareMailbox();
    await page.getByLabel("App name").fill("Taken");
    // Two 429s with Retry-After: 1 are waited out on the way.
    rig.entra.graph.faults.set(rig.tenant.id, { throttle: { requests: 2, retryAfterSeconds: 1 } });
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin);
    const failure = page.locator('[data-entra-setup-failure="SETUP_NAME_TAKEN"]');
    await failure.waitFor({ timeout: 20_000 });
    expect(await failure.textContent()).toContain("Choose another name");
    expect(rig.entra.graph.calls.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(2);
    rig.entra.graph.faults.delete(rig.tenant.id);
  }, 60_000);

  it("refuses a guest's and a personal Microsoft account's sign-in with the reason", async () => {
    const guest = rig.addUser({ roles: ["Application Administrator"], guest: true });
    await openBareMailbox();
    await page.getByLabel("App name").fill(`Guest ${n}`);
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(guest);
    const failure = page.locator('[data-entra-setup-failure="SETUP_NOT_MEMBER"]');
    await failure.waitFor({ timeout: 20_000 });
    expect(await failure.textContent()).toContain("guest or personal Microsoft account");

    await openBareMailbox();
    await page.getByLabel("App name").fill(`Personal ${n}`);
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    const code = page.locator(".user-code");
    await code.waitFor({ timeout: 10_000 });
    rig.entra.approveDeviceCodeAsOutsider((await code.textContent()) ?? "", "someone@outlook.com");
    await failure.waitFor({ timeout: 20_000 });
    expect(await failure.textContent()).toContain("AADSTS50020");
  }, 60_000);

  it("sets up app-only: the certificate on the app, the Exchange PowerShell to paste, and the mailbox switched once Test again passes", async () => {
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    const mailbox = await openBareMailbox();
    const appName = `App-only ${n}`;
    await page.getByLabel("App name").fill(appName);
    await page.getByLabel(/As the app: App-only/).check();
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin);
    const confirm = page.getByRole("button", { name: "Confirm and set up" });
    await confirm.waitFor({ timeout: 20_000 });
    const plan = (await page.locator("ol.plan li").allTextContents()).join("\n");
    expect(plan).toContain("SMTP.SendAsApp, IMAP.AccessAsApp");
    expect(plan).toMatch(/Add the mailbox's certificate \(thumbprint [0-9A-F]{40}\)/);
    expect(plan).not.toContain("public client flows");
    await confirm.click();
    // Graph is done; Exchange does not know the app yet: the PowerShell with the app's object IDs.
    const access = page.locator('[data-exchange-step="exchange-app-access"]');
    await access.waitFor({ timeout: 60_000 });
    const directory = rig.entra.directoryOf(rig.tenant);
    const app = directory.applications.find((a) => a.displayName === appName)!;
    const sp = directory.servicePrincipals.find((p) => p.appId === app.appId)!;
    expect(await access.getAttribute("data-status")).toBe("failed");
    expect(await access.locator("pre").textContent()).toContain(
      `Add-MailboxPermission -Identity '${mailbox.login}' -User '${sp.id}' -AccessRights FullAccess`,
    );
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]).toEqual(mailbox);
    // The page never holds the private key (the form's placeholder names one, with nothing after it).
    const aKey = /BEGIN PRIVATE KEY-----\s*[A-Za-z0-9+/]{16}/;
    expect(await page.content()).not.toMatch(aKey);

    rig.exchange.grant(sp.id, mailbox.login);
    await page.getByRole("button", { name: "Test again" }).click();
    await page.locator('[data-entra-setup="done"]').waitFor({ timeout: 30_000 });
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    expect(saved).toMatchObject({ signInMethod: "app", azureClientId: app.appId, passwordSealed: null });
    await page.reload();
    expect(await page.locator("#certificate").count()).toBe(1);
    expect(await page.content()).not.toMatch(aKey);
  }, 120_000);

  it("sets up a tenant in another Microsoft cloud through that cloud's Graph, and says so when the wrong cloud is chosen", async () => {
    const { tenant: gov, admin } = rig.addGovTenant();
    const slug = `setup-gov-${++n}`;
    await createTenant(db, root, { name: `Gov ${n}`, slug });
    await page.goto(`${portal.url}/tenants/${slug}/settings`);
    const section = page.locator("section", { has: page.locator("#entra-setup") });
    await section.getByLabel("Your organisation's domain or TenantID").fill("fabrikam.onmicrosoft.us");
    await section.getByLabel("App name").fill(`Gov ${n}`);

    // Global chosen for a US Government organisation: refused before any code is shown, with the fix.
    await section.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    const wrong = section.locator('[data-entra-setup-failure="SETUP_WRONG_CLOUD"]');
    await wrong.waitFor({ timeout: 20_000 });
    expect(await wrong.textContent()).toContain("US Government");

    // What was typed is still there; only the cloud changes.
    expect(await section.getByLabel("Your organisation's domain or TenantID").inputValue()).toBe(
      "fabrikam.onmicrosoft.us",
    );
    await section.getByLabel("Microsoft cloud").selectOption("usgov");
    await section.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin);
    await section.getByRole("button", { name: "Confirm and set up" }).click({ timeout: 20_000 });
    await section.locator('[data-entra-setup="done"]').waitFor({ timeout: 30_000 });
    const app = rig.entra.directoryOf(gov).applications.find((a) => a.displayName === `Gov ${n}`)!;
    const tenant = await getTenantBySlugFor(db, root, slug);
    expect(tenant).toMatchObject({
      defaultAzureClientId: app.appId,
      defaultAzureTenantId: gov.id,
      defaultCloud: "usgov",
    });
  }, 60_000);

  it("answers a caller without a session 401 before looking at the request, on both routes", async () => {
    const mailbox = await openBareMailbox();
    for (const path of [
      `/api/tenants/setup-${n}/mailboxes/${mailbox.id}/entra-setup`,
      `/api/tenants/setup-${n}/entra-setup`,
    ]) {
      const answer = await fetch(`${portal.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ directory: "not a domain" }),
      });
      expect([path, answer.status]).toEqual([path, 401]);
    }
  }, 30_000);

  it("refuses a malformed domain beside the field, before asking Microsoft", async () => {
    await openBareMailbox();
    const before = rig.entra.tokenRequests("devicecode");
    await page.getByLabel("Your organisation's domain or TenantID").fill("not a domain");
    await page.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await expect.poll(() => page.locator(".field-error").first().textContent()).toContain("organisation's domain");
    expect(rig.entra.tokenRequests("devicecode")).toBe(before);
  }, 30_000);
});

describe("the sign-in migration view, in the browser", () => {
  it("moves one mailbox to the Microsoft sign-in, one to app-only through the Entra setup, and leaves one whose move fails untouched", async () => {
    rig.entra.deviceCodeInterval = 1;
    const slug = `migrate-${++n}`;
    const tenant = await createTenant(db, root, { name: `Migrate ${n}`, slug });
    const save = (user: EmuUser, name: string, extra: Record<string, string> = {}) =>
      createMailbox(
        db,
        root,
        saveMailboxSchema.parse({ tenantId: String(tenant.id), ...rig.mailboxForm(user, { name, ...extra }) }),
      );
    const deviceUser = rig.addUser({ mfa: "required" });
    const appUser = rig.addUser();
    const stuckUser = rig.addUser();
    const laterUser = rig.addUser();
    const toDevice = await save(deviceUser, "Alerts");
    const toApp = await save(appUser, "Billing");
    // IMAP of a shared mailbox the Login has no FullAccess on: every move of it fails its test.
    const stuck = await save(stuckUser, "Desk", { type: "imap", mailboxAddress: rig.addSharedMailbox() });
    const later = await save(laterUser, "Reports");
    // A tenant admin of its own: the test limits count per administrator.
    const { page: first } = await tenantAdminPage(
      { browser, portalUrl: portal.url, db, tenantId: tenant.id },
      `mover${n}`,
    );
    const rowOf = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;
    const row = (id: number) => first.locator(`[data-migration-row="${id}"]`);

    // The status overview points at the view.
    await first.goto(`${portal.url}/status?q=${encodeURIComponent(`Migrate ${n}`)}`);
    const retiring = first.locator(`[data-mailbox="${toDevice.id}"] [data-retiring]`);
    expect(await retiring.textContent()).toContain("Uses a retiring sign-in method");
    await retiring.getByRole("link", { name: "move it" }).click();
    await first.waitForURL(`${portal.url}/tenants/${slug}/migration`);
    expect(await first.locator('[data-count="password/smtp_imap"] td').last().textContent()).toBe("4");
    expect(await first.locator("[data-migration-row]").count()).toBe(4);

    // 1. The Microsoft sign-in: the code in the row, the user signs in, the test passes, the mailbox moves.
    await row(toDevice.id).getByRole("button", { name: "Move to Microsoft sign-in" }).click();
    const code = row(toDevice.id).locator(".user-code");
    await code.waitFor({ timeout: 10_000 });
    rig.entra.approveDeviceCode((await code.textContent()) ?? "", deviceUser.upn);
    await row(toDevice.id).locator("text=Moved to the Microsoft sign-in").waitFor({ timeout: 30_000 });
    expect(await rowOf(toDevice.id)).toMatchObject({ signInMethod: "device", passwordSealed: null });

    // 2. A move whose test fails: the reason and its line in the row, and nothing changed.
    const before = await rowOf(stuck.id);
    await row(stuck.id).getByRole("button", { name: "Move to Microsoft sign-in" }).click();
    const stuckCode = row(stuck.id).locator(".user-code");
    await stuckCode.waitFor({ timeout: 10_000 });
    rig.entra.approveDeviceCode((await stuckCode.textContent()) ?? "", stuckUser.upn);
    const failure = row(stuck.id).locator('[data-move-failure="IMAP_NO_FULL_ACCESS"]');
    await failure.waitFor({ timeout: 30_000 });
    expect(await row(stuck.id).textContent()).toContain("Nothing was changed");
    expect(await rowOf(stuck.id)).toEqual(before);

    // 3. App-only through the one-click Entra setup, from the row's link.
    const admin = rig.addUser({ roles: ["Application Administrator"] });
    await row(toApp.id).getByRole("link", { name: "Set up app-only in Microsoft Entra" }).click();
    await first.waitForURL(/\?move=app/);
    expect(await first.getByLabel(/As the app: App-only/).isChecked()).toBe(true);
    const appName = `Migrated ${n}`;
    await first.getByLabel("App name").fill(appName);
    await first.getByRole("button", { name: "Set up in Microsoft Entra for me" }).click();
    await signInAtMicrosoft(admin, first);
    await first.getByRole("button", { name: "Confirm and set up" }).click({ timeout: 20_000 });
    await first.locator('[data-exchange-step="exchange-app-access"]').waitFor({ timeout: 60_000 });
    // Until Exchange lets the app in, the mailbox stays on the password grant.
    expect((await rowOf(toApp.id)).signInMethod).toBe("password");
    const directory = rig.entra.directoryOf(rig.tenant);
    const app = directory.applications.find((a) => a.displayName === appName)!;
    const sp = directory.servicePrincipals.find((p) => p.appId === app.appId)!;
    rig.exchange.grant(sp.id, appUser.upn);
    await first.getByRole("button", { name: "Test again" }).click();
    await first.locator('[data-entra-setup="done"]').waitFor({ timeout: 30_000 });
    expect(await rowOf(toApp.id)).toMatchObject({
      signInMethod: "app",
      azureClientId: app.appId,
      passwordSealed: null,
    });

    // 4. The tenant's own admin moves a selection to app-only with that app: the mailbox Exchange lets
    // the app into moves, the other stays.
    rig.exchange.grant(sp.id, laterUser.upn);
    const own = await tenantAdminPage({ browser, portalUrl: portal.url, db, tenantId: tenant.id }, `migrator${n}`);
    await own.page.goto(`${portal.url}/tenants/${slug}/migration`);
    const ownRow = (id: number) => own.page.locator(`[data-migration-row="${id}"]`);
    expect(await own.page.locator("[data-migration-row]").count()).toBe(2);
    await own.page.getByLabel("Select Reports").check();
    await own.page.getByLabel("Select Desk").check();
    await own.page.getByRole("button", { name: "Move selected to app-only" }).click();
    await ownRow(later.id).locator("text=Moved to app-only").waitFor({ timeout: 30_000 });
    await ownRow(stuck.id).locator('[data-move-failure="IMAP_APP_NOT_PERMITTED"]').waitFor({ timeout: 30_000 });
    // Only super-admins have the view across tenants.
    expect((await own.page.goto(`${portal.url}/migration`))?.status()).toBe(404);
    // A tenant admin moves nothing of another tenant: not its mailbox, not with its app.
    const foreign = await createTenant(db, root, { name: `Foreign ${n}`, slug: `foreign-${n}` });
    const foreignBox = await createMailbox(
      db,
      root,
      saveMailboxSchema.parse({ tenantId: String(foreign.id), ...rig.mailboxForm(rig.addUser(), { name: "Theirs" }) }),
    );
    const move = (path: string, data: unknown) => own.page.request.post(`${portal.url}/api/tenants/${path}`, { data });
    const current = await rowOf(stuck.id);
    for (const [path, data] of [
      [`foreign-${n}/mailboxes/${foreignBox.id}/move`, { to: "app", appOf: toApp.id, version: foreignBox.version }],
      [`${slug}/mailboxes/${foreignBox.id}/move`, { to: "app", appOf: toApp.id, version: foreignBox.version }],
      [`${slug}/mailboxes/${stuck.id}/move`, { to: "app", appOf: foreignBox.id, version: current.version }],
      [`foreign-${n}/mailboxes/${foreignBox.id}/sign-in`, { move: true }],
    ] as const) {
      expect([path, (await move(path, data)).status()]).toEqual([path, 404]);
    }
    const bad = await move(`${slug}/mailboxes/${stuck.id}/move`, { to: "app", appOf: "1; drop", version: 1 });
    expect(bad.status()).toBe(400);
    const anonymous = await fetch(`${portal.url}/api/tenants/${slug}/mailboxes/${stuck.id}/move`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: "app", appOf: toApp.id, version: current.version }),
    });
    expect(anonymous.status).toBe(401);
    expect(await rowOf(foreignBox.id)).toEqual(foreignBox);
    await own.page.context().close();
    expect(await rowOf(later.id)).toMatchObject({ signInMethod: "app", azureClientId: app.appId });
    expect(await rowOf(stuck.id)).toEqual(before);

    await first.context().close();

    // What is left, counted: one on the password grant, the moves audited; the super-admin's view
    // across tenants lists it under its tenant.
    await page.goto(`${portal.url}/migration`);
    expect(await page.locator(`[data-migration-row="${stuck.id}"]`).textContent()).toContain(`Migrate ${n}`);
    await page.goto(`${portal.url}/tenants/${slug}/migration`);
    expect(await page.locator("[data-migration-row]").count()).toBe(1);
    expect(await page.locator('[data-count="password/smtp_imap"] td').last().textContent()).toBe("1");
    expect(await page.locator('[data-count="app/smtp_imap"] td').last().textContent()).toBe("2");
    const moves = await db.select().from(auditLog).where(eq(auditLog.action, "mailbox.move"));
    expect(moves.map((a) => [a.targetId, (a.changes as { outcome?: unknown }).outcome ?? "moved"])).toEqual(
      expect.arrayContaining([
        [String(toDevice.id), "moved"],
        [String(stuck.id), { to: "IMAP_NO_FULL_ACCESS" }],
        [String(later.id), "moved"],
      ]),
    );
  }, 180_000);
});
