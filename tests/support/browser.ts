import fs from "node:fs";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import type { Db } from "@/db/client";
import type { UserActor } from "@/lib/auth/actor";
import { createUser } from "@/lib/users/queries";
import { asActor } from "./db";
import { RIG_CLIENT_ID } from "./rig/rig";

export const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = path.resolve("test-artifacts");

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); .ci/run does this.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

/** Full-page screenshots kept under test-artifacts/ (ignored by git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Signs in on the sign-in page; the caller waits for where it should land. */
export async function signInWith(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(`${url}/signin`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * A tenant admin of their own (the limits count tests per user), `name@acme.example`, signed in on a
 * page of its own.
 */
export async function tenantAdminPage(
  at: { browser: Browser; portalUrl: string; db: Db; tenantId: number },
  name: string,
): Promise<{ page: Page; actor: UserActor }> {
  const email = `${name}@acme.example`;
  const password = `${name} password 123`;
  const user = await createUser(at.db, null, { email, name, role: "tenant_admin", tenantId: at.tenantId, password });
  const page = await (await at.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signInWith(page, at.portalUrl, email, password);
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  return { page, actor: asActor(user) };
}

/** Signs in as the first super-admin and creates a tenant through the Tenants page. */
export async function signInAndCreateTenant(
  page: Page,
  portal: { url: string; admin: { email: string; password: string } },
  name: string,
  slug: string,
): Promise<void> {
  await signInWith(page, portal.url, portal.admin.email, portal.admin.password);
  await page.waitForURL(`${portal.url}/tenants`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Slug").fill(slug);
  await page.getByRole("button", { name: "Create tenant" }).click();
  await page.waitForURL(`${portal.url}/tenants/${slug}`);
}

/**
 * Fills the new-mailbox form for a user of the rig: its SMTP (587) and IMAP (993) servers and its app
 * registration. The password is typed only when given (Microsoft sign-in has none).
 */
export async function fillRigMailboxForm(
  page: Page,
  rig: { ip: string; tenant: { id: string } },
  values: { name: string; login: string; password?: string },
): Promise<void> {
  const field = (label: string) => page.getByLabel(label, { exact: true });
  await field("Name").fill(values.name);
  await field("Login").fill(values.login);
  if (values.password !== undefined) await field("Password").fill(values.password);
  await field("SMTP Server").fill(rig.ip);
  await field("SMTP Port").fill("587");
  await field("IMAP Server").fill(rig.ip);
  await field("IMAP Port").fill("993");
  await field("Azure Application ClientID").fill(RIG_CLIENT_ID);
  await field("Azure Application TenantID").fill(rig.tenant.id);
}

/** Presses Send test email and waits for the result line. */
export async function sendTestEmail(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Send test email" }).click();
  await page.locator(".result").waitFor({ timeout: 60_000 });
}

/** The steps of the test on the page, each as "Label: Status". */
export function stepTexts(page: Page): Promise<string[]> {
  return page
    .locator(".steps > li")
    .evaluateAll((items) =>
      items.map((li) => `${li.querySelector("strong")?.textContent}: ${li.querySelector(".step-status")?.textContent}`),
    );
}
