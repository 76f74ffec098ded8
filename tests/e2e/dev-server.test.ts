import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInAndCreateTenant } from "../support/browser";
import { CLIENT_ID, TENANT_GUID } from "../support/mailbox";
import { type Portal, startPortal } from "../support/portal";

// npm run dev serves the same pages, actions and routes as npm start: nothing exists only in a build.
let portal: Portal;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal({}, { dev: true }), launchBrowser()]);
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(120_000);
  // The development server compiles each page on its first request; the sign-in form works once hydrated.
  for (const route of ["/signin", "/tenants", "/status"]) await fetch(`${portal.url}${route}`, { redirect: "manual" });
  await page.goto(`${portal.url}/signin`, { waitUntil: "networkidle" });
  await signInAndCreateTenant(page, portal, "Acme Corporation", "acme");
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe("the development server", () => {
  it("runs in development mode", () => {
    expect(portal.output()).toContain("(development)");
  });

  it("creates a mailbox through its server action and opens its page, and saves it again", async () => {
    await page.getByRole("link", { name: "Add mailbox" }).click();
    await page.waitForURL(`${portal.url}/tenants/acme/mailboxes/new`);
    await page.getByLabel("Name", { exact: true }).fill("Invoices");
    await page.getByLabel("Login", { exact: true }).fill("invoices@contoso.com");
    await page.getByLabel("Password", { exact: true }).fill("a-password");
    await page.getByRole("button", { name: "Fill in the Microsoft 365 servers" }).click();
    await page.getByLabel("Azure Application ClientID", { exact: true }).fill(CLIENT_ID);
    await page.getByLabel("Azure Application TenantID", { exact: true }).fill(TENANT_GUID);
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/tenants\/acme\/mailboxes\/\d+\?created=1/, { timeout: 120_000 });
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Invoices");
    expect(await page.getByRole("button", { name: "Send test email" }).count()).toBe(1);
    await page.getByLabel("Name", { exact: true }).fill("Invoices EU");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator(".form-ok").textContent(), { timeout: 60_000 }).toBe("Saved Invoices EU.");
    await screenshot(page, "dev-01-mailbox");
  }, 60_000);

  it("opens the status overview and searches it", async () => {
    await page.goto(`${portal.url}/status`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Status");
    expect(await page.locator("main").textContent()).toContain("Invoices EU");
    await page.getByLabel("Search").fill("nothing like this");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/status\?q=nothing/);
    await expect.poll(() => page.locator("main").textContent()).toContain("No mailboxes match.");
  });
});
