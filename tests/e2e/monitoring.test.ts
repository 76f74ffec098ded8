import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mailboxTests } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { createTenant } from "@/lib/tenants/queries";
import { type Portal, signInOverHttp } from "../support/portal";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

let rig: Rig;
let portal: Portal;
let db: Db;
let root: UserActor;

beforeAll(async () => {
  rig = await startRig();
  ({ portal, db, root } = await startRigPortal(rig, {
    MONITOR: "on",
    // Every two seconds, so the test need not wait a minute.
    MONITOR_SCHEDULE: "*/2 * * * * *",
  }));
}, 180_000);

afterAll(async () => {
  db?.$client.close();
  await portal?.stop();
  await rig?.stop();
});

describe("the scheduler in the portal process", () => {
  it("starts with npm start and tests a new mailbox on its own, as 'scheduler'", async () => {
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
