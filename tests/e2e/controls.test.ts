import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import type { Mailbox } from "@/db/schema";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { launchBrowser, signInWith } from "../support/browser";
import { closeOpened } from "../support/db";
import type { Portal } from "../support/portal";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

/**
 * The portal's one rule for controls, checked on every page at 1280 px: a `button` (and an `a.button`)
 * has the page's font, the pointer cursor (progress while disabled) and the portal's corner radius;
 * a text field or select has the page's font, a text area (certificates, lists) the portal's --mono.
 * A browser's own button fails all three.
 * Each page's screenshot is written to test-artifacts/pages/ for review (not committed).
 */
const SHOTS = path.resolve("test-artifacts", "pages");

let rig: Rig;
let portal: Portal;
let db: Db;
let browser: Browser;
let page: Page;
const box: Record<"password" | "device", Mailbox> = {} as never;

beforeAll(async () => {
  [rig, browser] = await Promise.all([startRig(), launchBrowser()]);
  let root: Parameters<typeof createTenant>[1];
  ({ portal, db, root } = await startRigPortal(rig, { MONITOR: "off" }));
  const tenant = await createTenant(db, root, { name: "Acme Corporation", slug: "acme" });
  const save = async (form: Record<string, string>) =>
    createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
  box.password = await save(rig.mailboxForm(rig.addUser(), { name: "Invoices" }));
  box.device = await save(rig.mailboxForm(rig.addUser(), { name: "Orders", password: "", signInMethod: "device" }));
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  if (db) await closeOpened(db);
  await browser?.close();
  await portal?.stop();
  await rig?.stop();
});

type Offence = { control: string; why: string };

/** Every control on the page that breaks the rule, with what is wrong. */
function offences(page: Page): Promise<Offence[]> {
  return page.evaluate(() => {
    const font = getComputedStyle(document.body).fontFamily;
    const root = getComputedStyle(document.documentElement);
    const radius = root.getPropertyValue("--radius").trim();
    const mono = root.getPropertyValue("--mono").trim();
    const name = (el: Element) =>
      `<${el.tagName.toLowerCase()}${el.className ? ` class="${el.className}"` : ""}> ${(el.textContent ?? "").trim().slice(0, 40)}`;
    const found: { control: string; why: string }[] = [];
    for (const el of document.querySelectorAll("button, a.button")) {
      const style = getComputedStyle(el);
      const disabled = (el as HTMLButtonElement).disabled === true;
      if (style.fontFamily !== font) found.push({ control: name(el), why: `font ${style.fontFamily}` });
      if (style.cursor !== (disabled ? "progress" : "pointer"))
        found.push({ control: name(el), why: `cursor ${style.cursor}` });
      if (style.borderTopLeftRadius !== radius)
        found.push({ control: name(el), why: `radius ${style.borderTopLeftRadius}` });
    }
    const fields = "input:not([type=checkbox]):not([type=radio]):not([type=hidden]):not([type=file]), select, textarea";
    for (const el of document.querySelectorAll(fields)) {
      const style = getComputedStyle(el);
      const wanted = el.tagName === "TEXTAREA" ? mono : font;
      if (style.fontFamily !== wanted) found.push({ control: name(el), why: `font ${style.fontFamily}` });
    }
    return found;
  });
}

async function visit(address: string, shot: string, before?: () => Promise<void>): Promise<void> {
  await page.goto(`${portal.url}${address}`);
  expect(page.url(), address).not.toContain("/signin");
  await before?.();
  await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
  expect(await offences(page), address).toEqual([]);
}

describe("every control uses the portal's styles", () => {
  it("on the sign-in page", async () => {
    await page.goto(`${portal.url}/signin`);
    await page.screenshot({ path: path.join(SHOTS, "signin.png"), fullPage: true });
    expect(await offences(page)).toEqual([]);
    await signInWith(page, portal.url, portal.admin.email, portal.admin.password);
    await page.waitForURL(`${portal.url}/tenants`);
  });

  it.each([
    ["/tenants", "tenants"],
    ["/tenants/acme", "tenant-mailboxes"],
    ["/tenants/acme/settings", "tenant-settings"],
    ["/tenants/acme/alerts", "tenant-alerts"],
    ["/tenants/acme/api-keys", "tenant-api-keys"],
    ["/tenants/acme/admins", "tenant-admins"],
    ["/tenants/acme/mailboxes/new", "mailbox-new"],
    ["/status", "status"],
    ["/alerts", "alerts"],
    ["/users", "users"],
    ["/audit", "audit"],
    ["/account", "account"],
  ])("on %s", async (address, shot) => {
    await visit(address, shot);
  });

  it("on a mailbox's pages, with the delete confirmation open", async () => {
    const base = `/tenants/acme/mailboxes/${box.password.id}`;
    await visit(base, "mailbox", async () => {
      await page.getByRole("button", { name: "Delete mailbox…" }).click();
      await page.getByRole("button", { name: "Delete Invoices" }).waitFor();
    });
    await visit(`${base}/tests`, "mailbox-tests");
    await visit(`${base}/setup`, "mailbox-setup");
  });

  it("on a mailbox awaiting its Microsoft sign-in", async () => {
    await visit(`/tenants/acme/mailboxes/${box.device.id}`, "mailbox-awaiting-sign-in", async () => {
      await page.getByRole("button", { name: "Sign in with Microsoft" }).waitFor();
    });
  });

  it("catches a control with the browser's own look", async () => {
    await page.goto(`${portal.url}/tenants/acme`);
    await page.evaluate(() => {
      const plain = document.createElement("button");
      plain.type = "button";
      plain.textContent = "Unstyled";
      plain.className = "not-a-portal-class";
      document.querySelector("main")!.append(plain);
    });
    const found = await offences(page);
    expect(found.map((o) => o.why.split(" ")[0])).toEqual(["font", "cursor", "radius"]);
    expect(found[0]!.control).toContain("Unstyled");
  });
});
