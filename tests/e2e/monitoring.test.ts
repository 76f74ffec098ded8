import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, openDatabase } from "@/db/client";
import { mailboxTests, users } from "@/db/schema";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { asActor } from "../support/db";
import { type Portal, signInOverHttp, startPortal } from "../support/portal";
import { type Rig, startRig } from "../support/rig/rig";

let rig: Rig;
let portal: Portal;
let db: Db;

beforeAll(async () => {
  rig = await startRig();
  portal = await startPortal({
    ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
    AUTH_SECRET: process.env.AUTH_SECRET!,
    SECRETS_KEYS: process.env.SECRETS_KEYS!,
    MONITOR: "on",
    // Every two seconds, so the test need not wait a minute.
    MONITOR_SCHEDULE: "*/2 * * * * *",
  });
  db = openDatabase(path.join(portal.dataDir, "navigator-mail.db"));
}, 180_000);

afterAll(async () => {
  db?.$client.close();
  await portal?.stop();
  await rig?.stop();
});

describe("the scheduler in the portal process", () => {
  it("starts with npm start and tests a new mailbox on its own, as 'scheduler'", async () => {
    const root = asActor(db.select().from(users).where(eq(users.email, portal.admin.email)).get()!);
    const tenant = createTenant(db, root, { name: "Watched", slug: "watched" });
    const mailbox = createMailbox(
      db,
      root,
      saveMailboxSchema.parse({ tenantId: String(tenant.id), ...rig.mailboxForm(rig.addUser(), { name: "Invoices" }) }),
    );
    const runs = () => db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, mailbox.id)).all();
    await expect.poll(() => runs().filter((t) => t.outcome !== "running").length, { timeout: 30_000 }).toBe(1);
    expect(runs()[0]).toMatchObject({ triggeredBy: "scheduler", mode: "full", outcome: "passed" });
    expect(portal.output()).toMatch(/monitor: 1 due, 1 passed, 0 failed/);
    // Not again within its interval, however often the sweep looks.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(runs()).toHaveLength(1);

    // The status page shows it healthy, with today's test in its 30-day picture.
    const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
    const page = await (await fetch(`${portal.url}/status?q=invoices`, { headers: { cookie } })).text();
    expect(page).toContain(`data-mailbox="${mailbox.id}"`);
    expect(page).toMatch(/data-state="healthy"[^>]*>Healthy</);
    expect(page).toContain('class="day-passed"');
    expect(page).toContain("Tested on 1 of the last 30 days; failures on 0");
  });
});
