import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "@/db/schema";
import { launchBrowser, screenshot, signInAndCreateTenant } from "../support/browser";
import { closeOpened, openUrl } from "../support/db";
import { CLIENT_ID, TENANT_GUID } from "../support/mailbox";
import { type Portal, startPortal } from "../support/portal";
import { databaseBytes } from "../support/test-database";

const CANARY = "Canary-Pw-7Q4x!zebra-0451";
let portal: Portal;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let mailboxUrl = "";
const responses: string[] = [];

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on("response", async (response) => {
    const type = response.headers()["content-type"] ?? "";
    if (/text|json|x-component/.test(type)) responses.push(await response.text().catch(() => ""));
  });
  await signInAndCreateTenant(page, portal, "Acme Corporation", "acme");
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

const field = (label: string) => page.getByLabel(label, { exact: true });
const errorsOnPage = () => page.locator(".field-error").allTextContents();

async function cookieHeader(): Promise<string> {
  return (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
}

describe("mailbox settings in Chromium", () => {
  it("shows every error next to its field at once, keeping all but the password", async () => {
    await page.getByRole("link", { name: "Add mailbox" }).click();
    await page.waitForURL(`${portal.url}/tenants/acme/mailboxes/new`);
    await field("Login").fill("invoices");
    await field("Password").fill(CANARY);
    await field("SMTP Server").fill("smtp://smtp.office365.com");
    await field("SMTP Port").fill("993");
    await field("IMAP Server").fill("outlook.office365.com");
    await field("IMAP Port").fill("993");
    await field("Azure Application ClientID").fill("invoices@contoso.com");
    await field("Azure Application TenantID").fill("common");
    await page.getByRole("button", { name: "Create mailbox" }).click();

    await expect.poll(errorsOnPage).toHaveLength(6);
    const errors = (await errorsOnPage()).join("\n");
    expect(errors).toContain("Enter a name.");
    expect(errors).toContain("Enter the sign-in name as an email address");
    expect(errors).toContain("without a scheme");
    expect(errors).toContain("993 is an IMAP port");
    expect(errors).toContain("This is an email address. The ClientID is the Application (client) ID");
    expect(errors).toContain('"common" is not a specific tenant');
    expect(await field("Login").inputValue()).toBe("invoices");
    expect(await field("SMTP Server").inputValue()).toBe("smtp://smtp.office365.com");
    expect(await field("Azure Application TenantID").inputValue()).toBe("common");
    expect(await field("Password").inputValue()).toBe("");
    expect(await field("Use TLS").isChecked()).toBe(true);
    await screenshot(page, "mailbox-01-errors");
  });

  it("fills the Microsoft 365 servers for the chosen cloud", async () => {
    await field("Microsoft cloud").selectOption({ label: "US Government (GCC High)" });
    await page.getByRole("button", { name: "Fill in the Microsoft 365 servers" }).click();
    expect(await field("SMTP Server").inputValue()).toBe("smtp.office365.us");
    await field("Microsoft cloud").selectOption({ label: "Global" });
    await page.getByRole("button", { name: "Fill in the Microsoft 365 servers" }).click();
    expect([await field("SMTP Server").inputValue(), await field("SMTP Port").inputValue()]).toEqual([
      "smtp.office365.com",
      "587",
    ]);
    expect([await field("IMAP Server").inputValue(), await field("IMAP Port").inputValue()]).toEqual([
      "outlook.office365.com",
      "993",
    ]);
  });

  it("saves the corrected form, and after a reload shows the values and that a password is set", async () => {
    await field("Name").fill("Invoices");
    await field("Login").fill("invoices@contoso.com");
    await field("Password").fill(CANARY);
    await field("Azure Application ClientID").fill(CLIENT_ID);
    await field("Azure Application TenantID").fill(TENANT_GUID);
    await page.getByRole("button", { name: "Create mailbox" }).click();
    await page.waitForURL(/\/tenants\/acme\/mailboxes\/\d+\?created=1$/);
    mailboxUrl = page.url().replace(/\?.*$/, "");
    await page.goto(mailboxUrl);
    expect(await field("Login").inputValue()).toBe("invoices@contoso.com");
    expect(await field("SMTP Port").inputValue()).toBe("587");
    expect(await field("Azure Application TenantID").inputValue()).toBe(TENANT_GUID);
    expect(await field("Password").inputValue()).toBe("");
    expect(await page.locator(".status.ok").textContent()).toMatch(
      new RegExp(`Password set on .* UTC by ${portal.admin.email}\\.`),
    );
    await screenshot(page, "mailbox-02-saved");
  });

  it("names a Mailbox or Send as outside the Login's organisation beside its field, and stores a Mailbox equal to the Login as empty", async () => {
    // The mailbox page's tab bar is labelled "Mailbox" too: the field is the text box of that name.
    const mailboxField = () => page.getByRole("textbox", { name: "Mailbox", exact: true });
    await page.goto(mailboxUrl);
    await mailboxField().fill("INVOICES@contoso.com");
    await field("Send as").fill("boss@fabrikam.com");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(errorsOnPage).toEqual([expect.stringContaining("outside the Login's organisation")]);
    const sendAs = page.locator(".field", { has: field("Send as") });
    expect(await sendAs.locator(".field-error").textContent()).toContain("contoso.com");
    expect(await field("Send as").inputValue()).toBe("boss@fabrikam.com");
    expect(await mailboxField().inputValue()).toBe("INVOICES@contoso.com");
    await field("Send as").fill("billing@contoso.com");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator(`#${"mailbox-settings"} .form-ok`).textContent()).toContain("Saved");
    await page.goto(mailboxUrl);
    expect(await mailboxField().inputValue()).toBe("");
    expect(await field("Send as").inputValue()).toBe("billing@contoso.com");
  });

  it("asks for the password again before a stored one would go to a new server", async () => {
    await field("SMTP Server").fill("smtp.attacker.example");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect
      .poll(errorsOnPage)
      .toEqual([expect.stringContaining("You changed SMTP Server. Type the password again")]);
    expect(await field("SMTP Server").inputValue()).toBe("smtp.attacker.example");
    await screenshot(page, "mailbox-03-password-needed");
    await page.goto(mailboxUrl);
    expect(await field("SMTP Server").inputValue()).toBe("smtp.office365.com");
  });

  it("refuses the later of two concurrent saves with who changed it and when", async () => {
    const other = await context.newPage();
    await other.goto(mailboxUrl);
    await page.goto(mailboxUrl);
    await other.getByLabel("Name", { exact: true }).fill("Invoices EU");
    await other.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => other.locator(".form-ok").textContent()).toBe("Saved Invoices EU.");
    await field("Name").fill("Invoices US");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect
      .poll(() => page.locator(".form-error").textContent())
      .toMatch(new RegExp(`changed by ${portal.admin.email} at .* UTC — reload to see the changes`));
    expect(await field("Name").inputValue()).toBe("Invoices US");
    await screenshot(page, "mailbox-04-conflict");
    await other.close();
  });

  it("opened by its address, loads only the portal's own scripts, and saves twice in a row with the page kept up to date", async () => {
    await page.goto(mailboxUrl);
    const scripts = await page.evaluate(() => [...document.scripts].map((script) => script.src).filter(Boolean));
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) expect(new URL(src).pathname).toMatch(/^\/_next\/static\//);
    await field("Name").fill("Invoices One");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator(".form-ok").textContent()).toBe("Saved Invoices One.");
    // The server-rendered parts follow (the heading), and the form now carries the new version,
    // so the next save is not taken for someone else's change.
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Invoices One");
    expect(await page.locator(".form-ok").textContent()).toBe("Saved Invoices One.");
    await field("Name").fill("Invoices EU");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator(".form-ok").textContent()).toBe("Saved Invoices EU.");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Invoices EU");
    expect(await page.locator(".form-error").count()).toBe(0);
  });

  it("never lets the password reach a page, a payload, the log, the audit log or the database file in clear", async () => {
    const cookie = await cookieHeader();
    const tenantPage = await (await fetch(`${portal.url}/tenants/acme`, { headers: { cookie } })).text();
    const settingsTab = await (await fetch(`${portal.url}/tenants/acme/settings`, { headers: { cookie } })).text();
    const html = await (await fetch(mailboxUrl, { headers: { cookie } })).text();
    const rsc = await (await fetch(mailboxUrl, { headers: { cookie, RSC: "1" } })).text();
    const audit = await (await fetch(`${portal.url}/audit`, { headers: { cookie } })).text();
    expect(html).toContain("Invoices EU");
    expect(rsc).toContain("invoices@contoso.com");
    for (const [what, text] of Object.entries({
      tenantPage,
      settingsTab,
      html,
      rsc,
      audit,
      log: portal.output(),
      responses: responses.join("\n"),
    })) {
      expect(text.includes(CANARY), `the password appears in ${what}`).toBe(false);
      expect(/v1\.[\w-]+\.[\w-]{16}\./.test(text), `a sealed value appears in ${what}`).toBe(false);
    }
    expect(responses.length).toBeGreaterThan(5);

    const db = openUrl(portal.databaseUrl);
    const rows = JSON.stringify(await db.select().from(auditLog));
    await closeOpened(db);
    expect(rows).toContain("mailbox.create");
    expect(rows).not.toContain(CANARY);
    const bytes = databaseBytes(portal.databaseUrl);
    expect(bytes.includes(Buffer.from("mailbox.create", "utf8")), "the database's bytes were read").toBe(true);
    expect(bytes.includes(Buffer.from(CANARY, "utf8")), "the database holds the password").toBe(false);
    expect(bytes.includes(Buffer.from(CANARY, "utf16le"))).toBe(false);
  });

  it("lists the mailbox on the tenant page and deletes it after confirmation", async () => {
    await page.goto(`${portal.url}/tenants/acme`);
    expect(await page.locator("tbody").first().textContent()).toContain("invoices@contoso.com");
    await screenshot(page, "mailbox-05-list");
    await page.goto(mailboxUrl);
    await page.getByRole("button", { name: "Delete mailbox…" }).click();
    await screenshot(page, "mailbox-06-confirm-delete");
    await page.getByRole("button", { name: "Delete Invoices EU" }).click();
    await page.waitForURL(/\/tenants\/acme\?deleted=/);
    expect(await page.locator(".notice").textContent()).toBe("Mailbox Invoices EU deleted.");
    expect(await page.getByText("No mailboxes are configured for this tenant yet.").count()).toBe(1);
    expect((await fetch(mailboxUrl, { headers: { cookie: await cookieHeader() } })).status).toBe(404);
  });
});
