import { and, desc, eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxTests } from "@/db/schema";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { launchBrowser, tenantAdminPage } from "../support/browser";
import { closeOpened } from "../support/db";
import type { Portal } from "../support/portal";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

let rig: Rig;
let portal: Portal;
let db: Db;
let browser: Browser;
const box: Record<"streamed" | "left", Mailbox> = {} as never;
let tenantId = 0;

beforeAll(async () => {
  [rig, browser] = await Promise.all([startRig(), launchBrowser()]);
  let root: Parameters<typeof createTenant>[1];
  ({ portal, db, root } = await startRigPortal(rig, { MONITOR: "off" }));
  tenantId = (await createTenant(db, root, { name: "Acme Corporation", slug: "acme" })).id;
  const save = async (name: string) =>
    createMailbox(
      db,
      root,
      saveMailboxSchema.parse({ tenantId: String(tenantId), ...rig.mailboxForm(rig.addUser(), { name }) }),
    );
  box.streamed = await save("Streamed");
  box.left = await save("Left");
}, 120_000);

afterAll(async () => {
  if (db) await closeOpened(db);
  await browser?.close();
  await portal?.stop();
  await rig?.stop();
});

/** A tenant admin of Acme of their own (the limits count tests per user), signed in. */
async function adminPage(name: string): Promise<Page> {
  return (await tenantAdminPage({ browser, portalUrl: portal.url, db, tenantId }, name)).page;
}

describe("the test button", () => {
  it("shows each step as it finishes, in order, and the result without loading the page again", async () => {
    const page = await adminPage("stream");
    await page.goto(`${portal.url}/tenants/acme/mailboxes/${box.streamed.id}`);
    const documents: string[] = [];
    const refreshes: string[] = [];
    page.on("request", (request) => {
      if (request.resourceType() === "document") documents.push(request.url());
      if (request.headers().rsc === "1") refreshes.push(request.url());
    });
    // Each change of a step's status, with the time it was seen, recorded in the page.
    await page.evaluate(() => {
      const seen: { name: string; status: string; at: number }[] = [];
      (window as unknown as { seen: typeof seen }).seen = seen;
      new MutationObserver(() => {
        for (const li of document.querySelectorAll(".steps > li")) {
          const name = li.querySelector("strong")?.textContent ?? "";
          const status = li.className.replace(/^step step-/, "");
          if (!seen.some((s) => s.name === name && s.status === status))
            seen.push({ name, status, at: performance.now() });
        }
      }).observe(document.body, { childList: true, subtree: true, attributes: true });
    });
    await page.getByRole("button", { name: "Send test email" }).click();
    await page.locator(".result-ok").waitFor({ timeout: 60_000 });
    const seen = await page.evaluate(
      () => (window as unknown as { seen: { name: string; status: string; at: number }[] }).seen,
    );
    const passed = seen.filter((s) => s.status === "passed");
    expect(passed.map((s) => s.name)).toEqual([
      "Settings",
      "Network",
      "Token",
      "Token claims",
      "SMTP send",
      "IMAP receive",
    ]);
    // The first step was on the page while the last was still running (it waits for the message).
    const first = passed[0]!;
    const lastRunning = seen.find((s) => s.name === "IMAP receive" && s.status === "running")!;
    expect(first.at).toBeLessThan(passed.at(-1)!.at);
    expect(lastRunning.at).toBeLessThan(passed.at(-1)!.at);
    // No page load; the page's data is fetched once, for the "Last test" line and the history.
    await expect
      .poll(() => page.locator("p", { hasText: "Last test:" }).locator(".badge").textContent(), { timeout: 10_000 })
      .toMatch(/Passed/);
    expect(documents).toEqual([]);
    expect(refreshes.length).toBe(1);
  });

  it("records a test whole when the admin leaves the page while it runs", async () => {
    const page = await adminPage("leaver");
    await page.goto(`${portal.url}/tenants/acme/mailboxes/${box.left.id}`);
    await page.getByRole("button", { name: "Send test email" }).click();
    await page.locator(".steps > li.step-passed").first().waitFor();
    await page.goto(`${portal.url}/tenants/acme`);
    const latest = async () =>
      (
        await db
          .select()
          .from(mailboxTests)
          .where(and(eq(mailboxTests.mailboxId, box.left.id)))
          .orderBy(desc(mailboxTests.id))
      )[0];
    await expect.poll(async () => (await latest())?.outcome, { timeout: 30_000 }).toBe("passed");
    expect((await latest())!.steps.map((s) => `${s.name}: ${s.status}`)).toEqual([
      "settings: passed",
      "network: passed",
      "token: passed",
      "claims: passed",
      "smtp: passed",
      "imap: passed",
    ]);
  });
});
