import fs from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInWith } from "../support/browser";
import { type Portal, startPortal } from "../support/portal";
import { suiteOnPostgres } from "../support/test-database";

let portal: Portal;
let browser: Browser;
const TENANT_ADMIN = { email: "ann@acme.example", password: "ann-initial-password" };
const FIRST_ADMIN_NEW_PASSWORD = "the-first-admins-own-password";
/** The tenant page's tabs, each with a heading only it shows. */
const TABS = [
  { path: "", label: "Mailboxes", heading: "Mailboxes" },
  { path: "/settings", label: "Settings", heading: "Default app registration" },
  { path: "/alerts", label: "Alerts", heading: "Alerts" },
  { path: "/api-keys", label: "API keys", heading: "API keys" },
  { path: "/migration", label: "Sign-in migration", heading: "Sign-in methods" },
  { path: "/admins", label: "Admins", heading: "Tenant admins" },
];

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal({}, { generatedAdmin: true }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

async function signIn(context: BrowserContext, email: string, password: string): Promise<Page> {
  const page = await context.newPage();
  await signInWith(page, portal.url, email, password);
  return page;
}

describe("first start", () => {
  it("prints the first super-admin and keeps the generated secrets in a 0600 file", () => {
    expect(portal.admin.email).toBe("admin@navigator-mail.local");
    expect(portal.admin.password.length).toBeGreaterThanOrEqual(20);
    // Generated secrets are kept beside the SQLite file of a local install; on PostgreSQL they are set.
    if (suiteOnPostgres()) return;
    const secrets = path.join(portal.dataDir, "local-secrets.env");
    expect(fs.statSync(secrets).mode & 0o777).toBe(0o600);
    expect(portal.output()).toContain(`Generated AUTH_SECRET and SECRETS_KEYS for a local install in ${secrets}`);
  });

  it("answers the health check", async () => {
    const response = await fetch(`${portal.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, database: { status: "ok" } });
  });

  it("sends anonymous visitors to sign-in, whatever middleware headers they forge", async () => {
    const forged: Record<string, string>[] = [
      {},
      { "x-middleware-subrequest": "middleware:middleware:middleware:middleware:middleware" },
      { "x-middleware-subrequest": "proxy:proxy:proxy:proxy:proxy" },
    ];
    for (const headers of forged) {
      const response = await fetch(`${portal.url}/tenants`, { redirect: "manual", headers });
      expect(response.status).toBe(307);
      expect(response.headers.get("location")).toMatch(/\/signin$/);
    }
  });
});

describe("the administrator's journey in Chromium", () => {
  let adminContext: BrowserContext;
  let admin: Page;

  beforeAll(async () => {
    adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });

  it("refuses a wrong password with one generic message", async () => {
    const page = await signIn(adminContext, portal.admin.email, "not-the-password");
    await expect.poll(() => page.locator("#signin-error").textContent()).toBe("Email or password is incorrect.");
    await screenshot(page, "01-signin-wrong-password");
    await page.close();
  });

  it("makes the first admin replace the generated password before anything else", async () => {
    const first = await signIn(adminContext, portal.admin.email, portal.admin.password);
    await first.waitForURL(`${portal.url}/account?change=required`);
    await expect.poll(() => first.locator(".notice").textContent()).toContain("Choose your own password to continue");
    await first.goto(`${portal.url}/tenants`);
    await first.waitForURL(`${portal.url}/account?change=required`);
    await first.getByLabel("Current password").fill(portal.admin.password);
    await first.getByLabel("New password", { exact: true }).fill(FIRST_ADMIN_NEW_PASSWORD);
    await first.getByLabel("Repeat the new password").fill(FIRST_ADMIN_NEW_PASSWORD);
    await first.getByRole("button", { name: "Change password" }).click();
    await first.waitForURL(/\/signin/);
    await first.close();
  });

  it("signs in as the first admin", async () => {
    admin = await signIn(adminContext, portal.admin.email, FIRST_ADMIN_NEW_PASSWORD);
    await admin.waitForURL(`${portal.url}/tenants`);
    await expect.poll(() => admin.getByRole("heading", { level: 1 }).textContent()).toBe("Tenants");
    await screenshot(admin, "02-tenants-empty");
  });

  it("shows every tenant field error at once and keeps what was typed", async () => {
    await admin.getByLabel("Name").fill("x".repeat(5));
    await admin.getByLabel("Slug").fill("Not A Slug");
    await admin.getByRole("button", { name: "Create tenant" }).click();
    await expect
      .poll(() => admin.locator(".field-error").allTextContents())
      .toEqual([expect.stringMatching(/lowercase letters/)]);
    expect(await admin.getByLabel("Name").inputValue()).toBe("xxxxx");
    expect(await admin.getByLabel("Slug").inputValue()).toBe("Not A Slug");
    await screenshot(admin, "03-tenant-errors");
  });

  it("creates two tenants and refuses a duplicate slug", async () => {
    for (const [name, slug] of [
      ["Acme Corporation", "acme"],
      ["Other Ltd", "other"],
    ]) {
      await admin.goto(`${portal.url}/tenants`);
      await admin.getByLabel("Name").fill(name!);
      await admin.getByLabel("Slug").fill(slug!);
      await admin.getByRole("button", { name: "Create tenant" }).click();
      await admin.waitForURL(`${portal.url}/tenants/${slug}`);
    }
    await screenshot(admin, "04-tenant-page");
    await admin.goto(`${portal.url}/tenants`);
    await admin.getByLabel("Name").fill("Acme again");
    await admin.getByLabel("Slug").fill("acme");
    await admin.getByRole("button", { name: "Create tenant" }).click();
    await expect
      .poll(() => admin.locator(".field-error").allTextContents())
      .toEqual(['The slug "acme" is already used by another tenant.']);
    expect(await admin.locator("tbody tr").count()).toBe(2);
  });

  it("splits the tenant page into tabs: each has its own address, is reached by keyboard and fits a screen or two", async () => {
    const headings = () => admin.getByRole("heading", { level: 2 }).allTextContents();
    const current = () =>
      admin.getByRole("navigation", { name: "Tenant" }).locator('[aria-current="page"]').textContent();
    const heights: Record<string, number> = {};
    for (const tab of TABS) {
      await admin.goto(`${portal.url}/tenants/acme${tab.path}`);
      expect(await admin.getByRole("heading", { level: 1 }).textContent()).toBe("Acme Corporation");
      expect(await current()).toBe(tab.label);
      // Each section is on exactly one tab.
      for (const other of TABS) {
        expect((await headings()).includes(other.heading), `${other.heading} on ${tab.label}`).toBe(other === tab);
      }
      heights[tab.label] = await admin.evaluate(() => document.documentElement.scrollHeight);
    }
    // At 1280 px wide the one tenant page was about 4,000 px tall; no tab is more than 2,600 (Settings, the longest, is about 2,300).
    for (const [tab, height] of Object.entries(heights)) expect(height, tab).toBeLessThan(2600);

    // The tab bar is links in the page's order: Tab moves along it and Enter opens the next tab.
    await admin.goto(`${portal.url}/tenants/acme`);
    await admin.getByRole("navigation", { name: "Tenant" }).getByRole("link", { name: "Mailboxes" }).focus();
    for (const tab of TABS.slice(1)) {
      await admin.keyboard.press("Tab");
      expect(await admin.evaluate(() => document.activeElement?.textContent)).toBe(tab.label);
    }
    await admin.keyboard.press("Shift+Tab");
    await admin.keyboard.press("Enter");
    await admin.waitForURL(`${portal.url}/tenants/acme/migration`);
    await expect.poll(current).toBe("Sign-in migration");
    await screenshot(admin, "05-tenant-tabs");
  });

  it("creates a tenant admin, keeping typed values but never the password on failure", async () => {
    await admin.goto(`${portal.url}/users`);
    const form = admin.locator("section", { has: admin.getByRole("heading", { name: "New user" }) });
    await form.getByLabel("Email").fill(TENANT_ADMIN.email);
    await form.getByLabel("Name").fill("Ann Admin");
    await form.getByLabel("Tenant").selectOption({ label: "Acme Corporation" });
    await form.getByLabel("Initial password").fill("short");
    await form.getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => form.locator(".field-error").allTextContents()).toEqual(["Use at least 12 characters."]);
    expect(await form.getByLabel("Email").inputValue()).toBe(TENANT_ADMIN.email);
    expect(await form.getByLabel("Initial password").inputValue()).toBe("");
    await screenshot(admin, "05-user-errors");

    await form.getByLabel("Initial password").fill(TENANT_ADMIN.password);
    await form.getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => admin.locator("tbody").textContent()).toContain(TENANT_ADMIN.email);
    await screenshot(admin, "06-users");
  });

  it("records the changes in the audit log", async () => {
    await admin.goto(`${portal.url}/audit`);
    const text = await admin.locator("table").textContent();
    expect(text).toContain("tenant.create");
    expect(text).toContain("user.create");
    expect(text).not.toContain(TENANT_ADMIN.password);
    await screenshot(admin, "07-audit");
    await admin.goto(`${portal.url}/account`);
    expect(await admin.getByRole("heading", { name: "Change password" }).count()).toBe(1);
    await screenshot(admin, "07-account");
  });

  describe("as the tenant admin", () => {
    let tenantContext: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      tenantContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
      page = await signIn(tenantContext, TENANT_ADMIN.email, TENANT_ADMIN.password);
    });

    it("lands on their own tenant and sees only it", async () => {
      await page.waitForURL(`${portal.url}/tenants/acme`);
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Acme Corporation");
      await page.goto(`${portal.url}/tenants`);
      await page.waitForURL(`${portal.url}/tenants/acme`);
      await screenshot(page, "08-tenant-admin-home-390px");
      await page.goto(`${portal.url}/users`);
      expect(await page.locator("tbody").textContent()).not.toContain(portal.admin.email);
    });

    it("gets 404 for the other tenant's page, with or without forged middleware headers", async () => {
      const cookies = (await tenantContext.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      const forged: Record<string, string>[] = [
        {},
        { "x-middleware-subrequest": "middleware:middleware:middleware:middleware:middleware" },
      ];
      for (const tab of TABS) {
        for (const extra of forged) {
          const response = await fetch(`${portal.url}/tenants/other${tab.path}`, {
            headers: { cookie: cookies, ...extra },
            redirect: "manual",
          });
          expect(response.status, tab.path).toBe(404);
          expect(await response.text()).not.toContain("Other Ltd");
        }
      }
      const own = await fetch(`${portal.url}/tenants/acme`, { headers: { cookie: cookies }, redirect: "manual" });
      expect(own.status).toBe(200);
      await page.goto(`${portal.url}/tenants/other`);
      await screenshot(page, "09-other-tenant-404");
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Not found");
    });

    it("loses the session as soon as a super-admin disables the account, and cannot sign in again", async () => {
      await admin.goto(`${portal.url}/users`);
      await admin.getByRole("button", { name: `Disable ${TENANT_ADMIN.email}` }).click();
      await expect.poll(() => admin.locator("tbody").textContent()).toContain("Disabled");
      await page.goto(`${portal.url}/tenants/acme`);
      await page.waitForURL(`${portal.url}/signin`);
      const again = await signIn(tenantContext, TENANT_ADMIN.email, TENANT_ADMIN.password);
      await expect
        .poll(() => again.locator("#signin-error").textContent())
        .toBe("This account is disabled. Ask an administrator to enable it.");
      await screenshot(again, "10-disabled-signin");
    });
  });

  it("opens the status overview through the portal's own navigation and by its address, and searches it", async () => {
    await admin.goto(`${portal.url}/tenants`);
    // The menu link navigates inside the App Router.
    await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Status" }).click();
    await admin.waitForURL(`${portal.url}/status`);
    await expect.poll(() => admin.getByRole("heading", { level: 1 }).textContent()).toBe("Status");
    // Opened by address (or reloaded), the same page.
    await admin.reload();
    expect(await admin.getByRole("heading", { level: 1 }).textContent()).toBe("Status");
    await admin.getByLabel("Search").fill("nothing like this");
    await admin.getByRole("button", { name: "Search" }).click();
    await admin.waitForURL(/\/status\?q=nothing/);
    await expect.poll(() => admin.locator("main").textContent()).toContain("No mailboxes match.");
    await screenshot(admin, "11-status");
  });

  it("signs out from the status overview, after which the portal sends the browser back to sign-in", async () => {
    await admin.goto(`${portal.url}/status`);
    await admin.getByRole("button", { name: "Sign out" }).click();
    await admin.waitForURL(`${portal.url}/signin`);
    await admin.goto(`${portal.url}/tenants`);
    await admin.waitForURL(`${portal.url}/signin`);
    expect(
      await adminContext.cookies().then((all) => all.some((c) => c.name.endsWith("next-auth.session-token"))),
    ).toBe(false);
  });
});
