import { and, desc, eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, type Mailbox, mailboxes } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { NotFoundError, UserError } from "@/lib/errors";
import { createMailbox, switchTransport } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { launchBrowser, sendTestEmail, stepTexts, tenantAdminPage } from "../support/browser";
import { closeOpened } from "../support/db";
import type { Portal } from "../support/portal";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

// SMTP AUTH switched off for one mailbox (535 5.7.139): the test offers Microsoft Graph, which passes
// with the saved values, and one button switches the mailbox over.
const SMTP_OFF = "smtp-off@contoso.com";

let rig: Rig;
let portal: Portal;
let db: Db;
let browser: Browser;
let root: UserActor;
let tenantId = 0;
let otherTenantId = 0;

beforeAll(async () => {
  [rig, browser] = await Promise.all([startRig({ smtpAuthDisabled: [SMTP_OFF] }), launchBrowser()]);
  ({ portal, db, root } = await startRigPortal(rig, { MONITOR: "off" }));
  tenantId = (await createTenant(db, root, { name: "Acme Corporation", slug: "acme" })).id;
  otherTenantId = (await createTenant(db, root, { name: "Globex", slug: "globex" })).id;
}, 120_000);

afterAll(async () => {
  if (db) await closeOpened(db);
  await browser?.close();
  await portal?.stop();
  await rig?.stop();
});

async function mailbox(name: string, upn?: string, tenant = tenantId): Promise<Mailbox> {
  const user = rig.addUser(upn ? { upn } : {});
  return createMailbox(
    db,
    root,
    saveMailboxSchema.parse({ tenantId: String(tenant), ...rig.mailboxForm(user, { name }) }),
  );
}

const adminPage = (name: string) => tenantAdminPage({ browser, portalUrl: portal.url, db, tenantId }, name);

const stored = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;

describe("from SMTP AUTH switched off to a working mailbox over Microsoft Graph", () => {
  it("offers both ways out, tries Graph without saving, and switches with one button", async () => {
    const box = await mailbox("Invoices", SMTP_OFF);
    const { page } = await adminPage("switcher");
    await page.goto(`${portal.url}/tenants/acme/mailboxes/${box.id}`);

    await sendTestEmail(page);
    expect(await stepTexts(page)).toContain("SMTP send: Failed");
    const failed = page.locator(".step-failed");
    await expect(failed.locator(".command").textContent()).resolves.toBe(
      `Set-CASMailbox -Identity '${SMTP_OFF}' -SmtpClientAuthenticationDisabled $false`,
    );
    const tryGraph = page.getByRole("button", { name: "Test with Microsoft Graph" });
    await tryGraph.click();
    await page.locator(".result-ok").waitFor({ timeout: 60_000 });
    expect(await stepTexts(page)).toEqual([
      "Settings: Passed",
      "Network: Passed",
      "Token: Passed",
      "Token claims: Passed",
      "Graph send: Passed",
      "Graph receive: Passed",
    ]);
    // Tried, not saved.
    expect((await stored(box.id)).transport).toBe("smtp_imap");

    await page.getByRole("button", { name: "Switch this mailbox to Microsoft Graph" }).click();
    await page.getByText("Invoices now uses Microsoft Graph (HTTPS).").waitFor();
    const switched = await stored(box.id);
    expect(switched).toMatchObject({ transport: "graph", version: box.version + 1, smtpHost: rig.ip });
    const audit = (
      await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetType, "mailbox"), eq(auditLog.targetId, String(box.id))))
        .orderBy(desc(auditLog.id))
    )[0]!;
    expect(audit).toMatchObject({ action: "mailbox.update", actorEmail: "switcher@acme.example" });
    expect(JSON.stringify(audit.changes)).toContain("graph");

    // The saved mailbox now passes over Graph, from the page as it is after the switch.
    await page.reload();
    await expect(page.getByLabel("Transport", { exact: true }).inputValue()).resolves.toBe("graph");
    await expect(page.getByLabel("SMTP Server", { exact: true }).isVisible()).resolves.toBe(false);
    await sendTestEmail(page);
    expect(await page.locator(".result-ok").count()).toBe(1);
    expect(await stepTexts(page)).toContain("Graph send: Passed");
    // The status overview names the TLS version the last test negotiated.
    await page.goto(`${portal.url}/status`);
    await expect(page.locator(`tr[data-mailbox="${box.id}"] [data-tls]`).textContent()).resolves.toMatch(/TLS 1\.[23]/);
  }, 90_000);

  it("refuses a switch no passing test over Graph proved, and another tenant's mailbox", async () => {
    const untried = await mailbox("Untried");
    await expect(
      switchTransport(db, root, { tenantId, mailboxId: untried.id, version: untried.version }, "graph"),
    ).rejects.toThrow(UserError);
    expect((await stored(untried.id)).transport).toBe("smtp_imap");

    // A tenant admin of Acme cannot switch Globex's mailbox, even with its id and version.
    const globex = await mailbox("Globex box", undefined, otherTenantId);
    const { actor } = await adminPage("intruder");
    await expect(
      switchTransport(db, actor, { tenantId: otherTenantId, mailboxId: globex.id, version: globex.version }, "graph"),
    ).rejects.toThrow();
    await expect(
      switchTransport(db, actor, { tenantId, mailboxId: globex.id, version: globex.version }, "graph"),
    ).rejects.toThrow(NotFoundError);
    expect((await stored(globex.id)).transport).toBe("smtp_imap");
  });
});
