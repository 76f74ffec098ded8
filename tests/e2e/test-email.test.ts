import { randomUUID, X509Certificate } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "@/lib/users/queries";
import {
  fillRigMailboxForm,
  launchBrowser,
  screenshot,
  signInAndCreateTenant,
  signInWith,
  stepTexts as stepTextsOf,
} from "../support/browser";
import { closeOpened, openUrl } from "../support/db";
import { type Portal, startPortal } from "../support/portal";
import { RIG_CLIENT_ID, type Rig, startRig } from "../support/rig/rig";

let rig: Rig;
let portal: Portal;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let mailboxUrl = "";
const NO_PUBLIC_CLIENT = randomUUID();
const user = { upn: "", password: "" };

beforeAll(async () => {
  rig = await startRig();
  rig.tenant.apps.push({
    clientId: NO_PUBLIC_CLIENT,
    publicClient: false,
    consented: ["SMTP.Send", "IMAP.AccessAsUser.All"],
  });
  Object.assign(user, rig.addUser());
  [portal, browser] = await Promise.all([
    startPortal({ ENTRA_AUTHORITY_HOST: rig.entra.authorityHost, MAIL_ALLOW_PRIVATE: rig.allowlist.join(",") }),
    launchBrowser(),
  ]);
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = await context.newPage();
  await signInAndCreateTenant(page, portal, "Acme Corporation", "acme");
  await page.goto(`${portal.url}/tenants/acme/mailboxes/new`);
  await fillRigMailboxForm(page, rig, { name: "Invoices", login: user.upn, password: user.password });
  await page.getByRole("button", { name: "Create mailbox" }).click();
  await page.waitForURL(/\/mailboxes\/\d+\?created=1$/);
  mailboxUrl = page.url().replace(/\?.*$/, "");
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
  await rig?.stop();
});

function field(label: string) {
  return page.getByLabel(label, { exact: true });
}

async function sendTest(): Promise<void> {
  const button = page.getByRole("button", { name: "Send test email" });
  await button.click();
  await expect
    .poll(() => page.getByRole("button", { name: "Testing…" }).count(), { timeout: 2000 })
    .toBeLessThanOrEqual(1);
  await page.locator(".result").waitFor({ timeout: 60_000 });
}

const stepTexts = () => stepTextsOf(page);

describe("the Send test email button in Chromium", () => {
  it("runs every step against the rig and shows the arrival time", async () => {
    await sendTest();
    expect(await stepTexts()).toEqual([
      "Settings: Passed",
      "Network: Passed",
      "Token: Passed",
      "Token claims: Passed",
      "SMTP send: Passed",
      "IMAP receive: Passed",
    ]);
    expect(await page.locator(".result").textContent()).toMatch(
      /^All steps passed in .*\. The test message reached the inbox \d+ ms after it was sent\.$/,
    );
    expect(await page.locator(".step-time").count()).toBe(6);
    await screenshot(page, "test-01-success");
  });

  it("points to Allow public client flows when the app has them off (unsaved form values)", async () => {
    await field("Azure Application ClientID").fill(NO_PUBLIC_CLIENT);
    await field("Password").fill(user.password);
    await page.getByLabel("Values in the form (not saved)").check();
    await sendTest();
    const failed = page.locator(".step-failed");
    expect(await failed.locator("strong").first().textContent()).toBe("Token");
    expect(await failed.textContent()).toContain("Allow public client flows");
    expect(await failed.textContent()).toContain("AADSTS7000218");
    expect(await page.locator(".step-skipped").count()).toBe(3);
    expect(await failed.locator("details pre").isVisible()).toBe(false);
    await failed.locator("details summary").click();
    expect(await failed.locator("details pre").textContent()).toContain("AADSTS7000218");
    await page.getByRole("button", { name: "Copy report" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Report copied" }).count()).toBe(1);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain("[FAILED] Token");
    expect(copied).toContain("setup step: Allow public client flows");
    expect(copied).toContain("unsaved form values");
    expect(copied.includes(user.password)).toBe(false);
    await screenshot(page, "test-02-public-client-flows");
  });

  it("gives the Login/Password advice for a wrong password", async () => {
    await page.goto(mailboxUrl);
    await field("Password").fill("not-the-password");
    await page.getByLabel("Values in the form (not saved)").check();
    await sendTest();
    const failed = page.locator(".step-failed");
    expect(await failed.textContent()).toContain("Check the Login (the user's UPN) and type the Password again.");
    expect(await failed.textContent()).toContain("Setup step: Password");
    await screenshot(page, "test-03-wrong-password");
    // The stored settings were not changed by testing unsaved values.
    await page.goto(mailboxUrl);
    expect(await field("Azure Application ClientID").inputValue()).toBe(RIG_CLIENT_ID);
  });

  it("lists every run in the history, opens a report and marks the tenant's mailbox list", async () => {
    await page.getByRole("link", { name: "Test history" }).first().click();
    await page.waitForURL(`${mailboxUrl}/tests`);
    const rows = await page.locator("tbody tr").allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain("Failed: AADSTS50126");
    expect(rows[1]).toContain("Failed: AADSTS7000218");
    expect(rows[2]).toContain("Passed");
    expect(rows[0]).toContain("Unsaved form values");
    await screenshot(page, "test-04-history");
    await page.locator("tbody tr").nth(1).getByRole("link").click();
    await page.waitForURL(/\/tests\/\d+$/);
    expect(await page.locator(".step-failed").textContent()).toContain("Allow public client flows");
    await page.getByText("Show the report text").click();
    const report = await page.locator("details pre").last().textContent();
    expect(report).toContain("[FAILED] Token");
    expect(report).not.toContain(user.password);
    await screenshot(page, "test-05-report");
    await page.goto(`${portal.url}/tenants/acme`);
    expect(await page.locator("tbody").first().textContent()).toContain("Failed: AADSTS50126");
  });

  it("shows the setup checklist with the mailbox's own IDs, marked from the last run", async () => {
    await page.goto(`${mailboxUrl}/setup`);
    const text = await page.locator(".checklist").textContent();
    expect(text).toContain(RIG_CLIENT_ID);
    expect(text).toContain(rig.tenant.id);
    expect(await page.locator(".check-failed").count()).toBe(0);
    await page.goto(mailboxUrl);
    await sendTest();
    await page.goto(`${mailboxUrl}/setup`);
    expect(await page.locator(".check-passed").count()).toBe(8);
    await screenshot(page, "test-06-checklist");
  });

  it("works at 390 px wide", async () => {
    const narrow = await browser.newContext({
      viewport: { width: 390, height: 844 },
      storageState: await context.storageState(),
    });
    const phone = await narrow.newPage();
    await phone.goto(mailboxUrl);
    await screenshot(phone, "test-07-mailbox-390px");
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await narrow.close();
  });

  it("keeps the password and tokens out of the portal's log", () => {
    const log = portal.output();
    expect(log).toContain("Ready in");
    expect(log.includes(user.password)).toBe(false);
    expect(log).not.toMatch(/eyJ[\w-]{10,}\./);
  });

  it("guards the test endpoint: sign-in, JSON only, and nothing of another tenant", async () => {
    const endpoint =
      mailboxUrl.replace(`${portal.url}/tenants/acme/mailboxes/`, `${portal.url}/api/tenants/acme/mailboxes/`) +
      "/tests";
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    expect(
      (await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status,
    ).toBe(401);
    expect(
      (
        await fetch(endpoint, {
          method: "POST",
          headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
          body: "source=saved",
        })
      ).status,
    ).toBe(415);
    const post = (contentType: string, body: string) =>
      fetch(endpoint, { method: "POST", headers: { cookie, "content-type": contentType }, body }).then((r) => r.status);
    expect(await post("application/jsonp", "{}")).toBe(415);
    expect(await post("text/plain; x=application/json", "{}")).toBe(415);
    expect(await post("application/json", `{"source":"saved","form":{"x":"${"a".repeat(70 * 1024)}"}}`)).toBe(413);
    expect(await post("application/json; charset=utf-8", '{"source":"nonsense"}')).toBe(400);
    const other = endpoint.replace("/api/tenants/acme/", "/api/tenants/nobody/");
    expect(
      (await fetch(other, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: "{}" }))
        .status,
    ).toBe(404);
  });
});

describe("an app-only mailbox in Chromium", () => {
  const secret = "app-only-secret-value-for-the-browser";
  let appMailbox = "";

  beforeAll(async () => {
    // Another administrator: the first one has used up its five tests a minute above.
    const db = openUrl(portal.databaseUrl);
    const admin = { email: "apps@acme.example", password: "apps-admin-password" };
    await createUser(db, null, { ...admin, name: "Apps", role: "super_admin", tenantId: undefined });
    await closeOpened(db);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signInWith(page, portal.url, admin.email, admin.password);
    await page.waitForURL(`${portal.url}/tenants`);
    appMailbox = rig.addUser().upn;
    Object.assign(appApp, rig.addAppOnlyApp({ secrets: [{ value: secret }] }, [appMailbox]));
  });
  const appApp = { clientId: "" };
  const SEND_ONLY_PASSED = [
    "Settings: Passed",
    "Network: Passed",
    "Token: Passed",
    "Token claims: Passed",
    "SMTP send: Passed",
  ];

  /** A send-only mailbox of the app registration above, on the rig's SMTP peer. */
  async function fillSendOnlyMailbox(name: string, login: string): Promise<void> {
    await field("Name").fill(name);
    await page.getByLabel("Type").selectOption("smtp");
    await field("Login").fill(login);
    await field("SMTP Server").fill(rig.ip);
    await field("SMTP Port").fill("587");
    await field("Azure Application ClientID").fill(appApp.clientId);
    await field("Azure Application TenantID").fill(rig.tenant.id);
  }

  it("shows only the chosen method's fields, saves a client secret and passes the test", async () => {
    await page.goto(`${portal.url}/tenants/acme/mailboxes/new`);
    await page.getByLabel("Sign-in method").selectOption("app");
    expect(await field("Password").isVisible()).toBe(false);
    expect(await field("Client secret").isVisible()).toBe(true);
    await fillSendOnlyMailbox("Notifications", appMailbox);
    await field("Client secret").fill(secret);
    await field("Client secret expires on").fill("2030-06-30");
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/mailboxes\/\d+\?created=1$/);
    await expect.poll(() => page.locator("#app-only .status").textContent()).toContain("It expires on 2030-06-30");
    expect(await page.content()).not.toContain(secret);
    await sendTest();
    expect(await stepTexts()).toEqual(SEND_ONLY_PASSED);
    expect(await page.locator(".steps").textContent()).toContain("App-only, roles SMTP.SendAsApp");
    await screenshot(page, "app-only-passed");
  });

  it("names a wrong client secret and its setup step (values in the form)", async () => {
    await field("Client secret").fill("a-wrong-client-secret-value");
    await field("Client secret expires on").fill("2030-06-30");
    await page.getByLabel("Values in the form (not saved)").check();
    await sendTest();
    const token = page.locator(".steps > li").filter({ hasText: "Token" }).first();
    expect(await token.textContent()).toContain("AADSTS7000215");
    expect(await token.textContent()).toContain("Client secret of the app registration");
    expect(await page.content()).not.toContain("a-wrong-client-secret-value");
    await page.getByText("Show the report text").click();
    expect(await page.locator(".copy-report pre").textContent()).toContain(
      "Sign-in:  App-only: client secret, expires 2030-06-30",
    );
  });

  it("lists the app-only setup steps with ready PowerShell for this mailbox", async () => {
    await page.getByRole("link", { name: "Setup checklist" }).click();
    await page.waitForURL(/\/setup$/);
    const list = (await page.locator(".checklist").textContent()) ?? "";
    expect(list).toContain(`New-ServicePrincipal -AppId '${appApp.clientId}'`);
    expect(list).toContain(`Add-MailboxPermission -Identity '${appMailbox}'`);
    expect(list).toContain(`/${rig.tenant.id}/adminconsent?client_id=${appApp.clientId}`);
    expect(list).toContain("SMTP.SendAsApp");
    expect(list).not.toContain("Allow public client flows");
    await screenshot(page, "app-only-checklist");
  });

  it("generates a certificate whose key never leaves the portal, and tests with it", async () => {
    const second = rig.addUser().upn;
    const app = rig.tenant.apps.find((a) => a.clientId === appApp.clientId)!;
    rig.exchange.grant(app.servicePrincipalId!, second);
    await page.goto(`${portal.url}/tenants/acme/mailboxes/new`);
    await fillSendOnlyMailbox("Alerts", second);
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/mailboxes\/\d+\?created=1$/);
    await page.getByRole("button", { name: "Generate a certificate" }).click();
    const pem = page.locator("#certificate ~ .command pre, section:has(#certificate) .command pre").first();
    await pem.waitFor();
    const certificatePem = (await pem.textContent()) ?? "";
    expect(certificatePem).toContain("-----BEGIN CERTIFICATE-----");
    // Key material (base64 of PKCS#8 starts with MII), not the field's placeholder.
    expect(await page.content()).not.toMatch(/PRIVATE KEY-----\s*MI/);
    app.certificates = [certificatePem];

    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const download = await fetch(`${page.url().replace(/\?.*$/, "")}/certificate`, { headers: { cookie } });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/pkix-cert");
    const der = Buffer.from(await download.arrayBuffer());
    expect(new X509Certificate(der).toString().trim()).toBe(certificatePem.trim());
    const elsewhere = page.url().replace(/\?.*$/, "").replace("/tenants/acme/", "/tenants/nobody/");
    expect((await fetch(`${elsewhere}/certificate`, { headers: { cookie } })).status).toBe(404);

    await page.reload();
    await page.getByLabel("Saved settings").check();
    await sendTest();
    expect(await stepTexts()).toEqual(SEND_ONLY_PASSED);
    await screenshot(page, "app-only-generated-certificate");
  });
});
