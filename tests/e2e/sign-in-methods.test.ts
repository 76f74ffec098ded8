import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "@/lib/users/queries";
import {
  fillRigMailboxForm,
  launchBrowser,
  screenshot,
  sendTestEmail,
  signInAndCreateTenant,
  signInWith,
  stepTexts as stepTextsOf,
} from "../support/browser";
import { closeOpened, openUrl } from "../support/db";
import { type Portal, startPortal } from "../support/portal";
import type { EmuUser } from "../support/rig/entra-emulator";
import { type Rig, startRig } from "../support/rig/rig";

let rig: Rig;
let portal: Portal;
let browser: Browser;
let page: Page;
let user: EmuUser;
let mailboxUrl = "";

beforeAll(async () => {
  rig = await startRig();
  rig.entra.deviceCodeInterval = 1;
  // MFA on the account: the password grant would fail, the device-code sign-in does not.
  user = rig.addUser({ mfa: "required" });
  [portal, browser] = await Promise.all([
    startPortal({ ENTRA_AUTHORITY_HOST: rig.entra.authorityHost, MAIL_ALLOW_PRIVATE: rig.allowlist.join(",") }),
    launchBrowser(),
  ]);
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = await context.newPage();
  await signInAndCreateTenant(page, portal, "Acme Corporation", "acme");
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
  await rig?.stop();
});

const field = (label: string) => page.getByLabel(label, { exact: true });

const sendTest = () => sendTestEmail(page);
const stepTexts = () => stepTextsOf(page);

/** Presses the sign-in button and returns the code the page shows. */
async function pressSignIn(name: "Sign in with Microsoft" | "Sign in again"): Promise<string> {
  await page.getByRole("button", { name }).click();
  const code = page.locator(".user-code");
  await code.waitFor({ timeout: 5_000 });
  return (await code.textContent()) ?? "";
}

describe("Microsoft sign-in (device code) in Chromium", () => {
  it("offers the method on the form, without a password field, and links to it from the password notice", async () => {
    await page.goto(`${portal.url}/tenants/acme/mailboxes/new`);
    const notice = page.locator(".notice.method-password");
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.getByRole("link", { name: "Microsoft sign-in" }).getAttribute("href")).toBe(
      "#microsoft-sign-in-method",
    );
    await page.getByLabel("Sign-in method").selectOption("device");
    expect(await field("Password").isVisible()).toBe(false);
    expect(await field("Client secret").isVisible()).toBe(false);
    expect(await notice.isVisible()).toBe(false);
    expect(await page.locator("#microsoft-sign-in-method").isVisible()).toBe(true);
    await fillRigMailboxForm(page, rig, { name: "Invoices", login: user.upn });
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/mailboxes\/\d+\?created=1$/);
    mailboxUrl = page.url().replace(/\?.*$/, "");
    expect(await page.locator("#microsoft-sign-in ~ .status").first().textContent()).toContain("Awaiting sign-in");
  });

  it("shows the code and the address with copy buttons, polls, and is signed in once the user approves", async () => {
    const pressed = Date.now();
    const code = await pressSignIn("Sign in with Microsoft");
    const shownAfterMs = Date.now() - pressed;
    expect(code).toMatch(/^[A-Z]{9}$/);
    expect(shownAfterMs).toBeLessThan(5_000);
    const link = page.getByRole("link", { name: "https://microsoft.com/devicelogin" });
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    await page.getByRole("button", { name: "Copy code" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await page.getByRole("button", { name: "Copy address" }).click();
    await expect
      .poll(() => page.evaluate(() => navigator.clipboard.readText()))
      .toBe("https://microsoft.com/devicelogin");
    expect(await page.locator(".device-code").textContent()).toContain("Waiting for you to enter the code");
    expect(await page.content()).not.toContain(rig.entra.deviceCodeOf(code));
    await screenshot(page, "device-code-shown");

    // The user types the code at Microsoft (the emulator's hook) while the page keeps asking.
    rig.entra.approveDeviceCode(code, user.upn);
    await expect
      .poll(() => page.locator('[data-sign-in="ok"]').textContent(), { timeout: 15_000 })
      .toContain(`Signed in as ${user.upn}`);
    await sendTest();
    expect(await stepTexts()).toEqual([
      "Settings: Passed",
      "Network: Passed",
      "Token: Passed",
      "Token claims: Passed",
      "SMTP send: Passed",
      "IMAP receive: Passed",
    ]);
    expect(await page.locator(".steps").textContent()).toContain("Token from the cache (no request)");
    await page.getByText("Show the report text").click();
    expect(await page.locator(".copy-report pre").textContent()).toContain(`Sign-in:  Microsoft sign-in: ${user.upn}`);
    await screenshot(page, "device-code-signed-in");
  });

  it("asks to sign in again after Microsoft revokes the sign-in, and one click signs in again", async () => {
    // Short-lived access tokens: every test renews with the refresh token, so a revoked one shows at once.
    rig.entra.accessTokenLifetime = 60;
    const first = await pressSignIn("Sign in again");
    rig.entra.approveDeviceCode(first, user.upn);
    await expect.poll(() => page.locator(".status.ok[role=status]").count(), { timeout: 15_000 }).toBe(1);
    rig.entra.revokeRefreshTokens(user.upn);
    const code = await pressSignInAfterRevoke();
    rig.entra.approveDeviceCode(code, user.upn);
    await expect.poll(() => page.locator('[data-sign-in="ok"]').count(), { timeout: 15_000 }).toBe(1);
    await sendTest();
    expect(await page.locator(".result").textContent()).toMatch(/^All steps passed/);
    rig.entra.accessTokenLifetime = 3600;
  });

  it("says in words when the sign-in is declined at Microsoft", async () => {
    const code = await pressSignIn("Sign in again");
    rig.entra.declineDeviceCode(code);
    const failure = page.locator("[data-sign-in-failure]");
    await failure.waitFor({ timeout: 15_000 });
    expect(await failure.getAttribute("data-sign-in-failure")).toBe("DEVICE_DECLINED");
    expect(await failure.textContent()).toContain("The sign-in was declined at Microsoft.");
    expect(await page.locator('[data-sign-in="ok"]').count()).toBe(1);
  });

  it("refuses the sign-in routes to another tenant, to non-JSON posts and to unknown sign-ins", async () => {
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const api = mailboxUrl.replace("/tenants/", "/api/tenants/");
    const form = await fetch(`${api}/sign-in`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "a=1",
    });
    expect(form.status).toBe(415);
    const anonymous = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
    expect((await fetch(`${api}/sign-in`, anonymous)).status).toBe(401);
    const elsewhere = api.replace("/tenants/acme/", "/tenants/nobody/");
    const post = { method: "POST", headers: { cookie, "content-type": "application/json" }, body: "{}" };
    expect((await fetch(`${elsewhere}/sign-in`, post)).status).toBe(404);
    expect((await fetch(`${api}/sign-in/${"A".repeat(24)}`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${api}/sign-in/../../tests`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${api}/sign-in/${"A".repeat(5000)}`, { headers: { cookie } })).status).toBe(404);
  });

  async function pressSignInAfterRevoke(): Promise<string> {
    await sendTest();
    const token = page.locator(".steps > li").filter({ hasText: "Token" }).first();
    expect(await token.textContent()).toContain("Sign in with Microsoft (device code)");
    await page.reload();
    const again = page.locator('[data-sign-in="again"]');
    expect(await again.textContent()).toContain("AADSTS50173");
    await screenshot(page, "device-code-sign-in-again");
    return pressSignIn("Sign in again");
  }
});

describe("app-only failures in Chromium", () => {
  let app: { clientId: string; servicePrincipalId: string };

  beforeAll(async () => {
    // A second administrator: the first one has used its tests of this minute.
    const db = openUrl(portal.databaseUrl);
    const admin = { email: "apps@acme.example", password: "apps-admin-password" };
    await createUser(db, null, { ...admin, name: "Apps", role: "super_admin", tenantId: undefined });
    await closeOpened(db);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signInWith(page, portal.url, admin.email, admin.password);
    await page.waitForURL(`${portal.url}/tenants`);
    app = rig.addAppOnlyApp({}, []);
  });

  async function certificateMailbox(name: string, login: string): Promise<string> {
    await page.goto(`${portal.url}/tenants/acme/mailboxes/new`);
    await field("Name").fill(name);
    await page.getByLabel("Type").selectOption("smtp");
    await field("Login").fill(login);
    await field("SMTP Server").fill(rig.ip);
    await field("SMTP Port").fill("587");
    await field("Azure Application ClientID").fill(app.clientId);
    await field("Azure Application TenantID").fill(rig.tenant.id);
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/mailboxes\/\d+\?created=1$/);
    await page.getByRole("button", { name: "Generate a certificate" }).click();
    const pem = page.locator("section:has(#certificate) .command pre").first();
    await pem.waitFor();
    return (await pem.textContent()) ?? "";
  }

  const tokenOrStep = (name: string) => page.locator(".steps > li").filter({ hasText: name }).first();

  it("names a certificate that is not on the app registration (AADSTS700027)", async () => {
    await certificateMailbox("Not uploaded", rig.addUser().upn);
    await sendTest();
    const token = tokenOrStep("Token");
    expect(await token.textContent()).toContain("AADSTS700027");
    expect(await token.textContent()).toContain("Certificate of the app registration");
    await screenshot(page, "app-only-certificate-not-uploaded");
  });

  it("names a token without the application role (admin consent)", async () => {
    const mailbox = rig.addUser().upn;
    const pem = await certificateMailbox("No role", mailbox);
    const registered = rig.tenant.apps.find((a) => a.clientId === app.clientId)!;
    registered.certificates = [...(registered.certificates ?? []), pem];
    registered.appRoles = [];
    await sendTest();
    const claims = tokenOrStep("Token claims");
    expect(await claims.textContent()).toContain("SMTP.SendAsApp");
    expect(await claims.textContent()).toContain("Grant admin consent");
    registered.appRoles = ["SMTP.SendAsApp"];
  });

  it("names a missing Exchange service principal or mailbox permission (SMTP 535 5.7.3)", async () => {
    const mailbox = rig.addUser().upn;
    const pem = await certificateMailbox("No permission", mailbox);
    const registered = rig.tenant.apps.find((a) => a.clientId === app.clientId)!;
    registered.certificates = [...(registered.certificates ?? []), pem];
    await sendTest();
    const smtp = tokenOrStep("SMTP send");
    expect(await smtp.textContent()).toContain("5.7.3");
    expect(await smtp.textContent()).toContain("Exchange service principal and mailbox permission");
    await page.getByRole("link", { name: "Setup checklist" }).click();
    await page.waitForURL(/\/setup$/);
    expect(await page.locator(".checklist").textContent()).toContain(`Add-MailboxPermission -Identity '${mailbox}'`);
    await screenshot(page, "app-only-mailbox-permission");
  });
});
