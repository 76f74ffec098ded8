import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxes } from "@/db/schema";
import { SYSTEM_ACTORS } from "@/lib/auth/actor";
import type { StepResult } from "@/lib/engine/steps";
import { createMailbox } from "@/lib/mailbox/save";
import { statusPage } from "@/lib/service/status";
import { recordTestEnd, recordTestStart } from "@/lib/service/test-history";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";

let db: Db;
let world: World;
const box: Record<string, Mailbox> = {};
const DAY = 86_400_000;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
  const make = async (name: string, tenantId = world.tenantA.id, extra: Record<string, string> = {}) =>
    createMailbox(
      db,
      world.root,
      mailboxInput(tenantId, { name, login: `${name.toLowerCase()}@contoso.com`, ...extra }),
    );
  for (const name of ["Healthy", "Failing", "Recovered", "Stale", "Never"]) box[name] = await make(name);
  box.Device = await make("Device", world.tenantA.id, { signInMethod: "device" });
  box.Beta = await make("Beta", world.tenantB.id);
  await test(box.Healthy!, true);
  await test(box.Failing!, true);
  await test(box.Failing!, false);
  await test(box.Failing!, false);
  await test(box.Recovered!, false);
  await test(box.Recovered!, true);
  await test(box.Stale!, true);
  await db
    .update(mailboxes)
    .set({ lastTestAt: new Date(Date.now() - 2 * DAY) })
    .where(eq(mailboxes.id, box.Stale!.id));
  await test(box.Beta!, false);
  const expires = new Date(Date.now() + 10 * DAY);
  await db.update(mailboxes).set({ appCredentialExpiresAt: expires }).where(eq(mailboxes.id, box.Healthy!.id));
});

async function test(mailbox: Mailbox, ok: boolean): Promise<void> {
  const actor = SYSTEM_ACTORS.scheduler;
  const owner = { mailboxId: mailbox.id, tenantId: mailbox.tenantId };
  const started = await recordTestStart(db, actor, owner, "saved", "fp");
  const step: StepResult = ok
    ? { name: "settings", status: "passed", durationMs: 5, summary: "ok" }
    : {
        name: "token",
        status: "failed",
        durationMs: 5,
        summary: "no",
        diagnosis: { code: "AADSTS50126", cause: "c", fix: "f", setupStep: "password" },
      };
  await recordTestEnd(db, actor, started, mailbox.name, { ok, durationMs: 5, steps: [step] });
}

const states = (rows: { name: string; state: string }[]) => Object.fromEntries(rows.map((r) => [r.name, r.state]));

describe("the status page", () => {
  it("gives each mailbox its state, worst first, with counts per state", async () => {
    const page = await statusPage(db, world.adminA, {});
    expect(states(page.rows)).toEqual({
      // Nobody has signed in yet: awaiting, not a problem to put first.
      Device: "awaiting-sign-in",
      Failing: "failing",
      Healthy: "expiring",
      Stale: "stale",
      Never: "never-tested",
      Recovered: "healthy",
    });
    expect(page.rows.map((r) => r.name)).toEqual(["Failing", "Healthy", "Stale", "Device", "Never", "Recovered"]);
    // The tenant's own name and address, not a column of the mailbox with the same name.
    expect(new Set(page.rows.map((r) => `${r.tenantName} ${r.tenantSlug}`))).toEqual(
      new Set([`${world.tenantA.name} ${world.tenantA.slug}`]),
    );
    expect(page.counts).toEqual({
      "needs-sign-in": 0,
      "awaiting-sign-in": 1,
      failing: 1,
      expiring: 1,
      stale: 1,
      "never-tested": 1,
      healthy: 1,
    });
  });

  it("says since when a mailbox fails: the first failure of the run, not the latest", async () => {
    const failing = (await statusPage(db, world.adminA, { state: "failing" })).rows[0]!;
    const tests = (await db.select().from(mailboxes).where(eq(mailboxes.id, box.Failing!.id)))[0]!;
    expect(failing.healthSince?.getTime()).toBe(tests.healthSince?.getTime());
    expect(failing).toMatchObject({ lastFailureCode: "AADSTS50126" });
    expect(failing.days.at(-1)).toMatchObject({ passed: 1, failed: 2 });
  });

  it("filters, searches (name, login, tenant; % and _ are literal) and keeps to the admin's tenant", async () => {
    expect((await statusPage(db, world.adminA, { q: "stale@" })).rows.map((r) => r.name)).toEqual(["Stale"]);
    expect((await statusPage(db, world.adminA, { q: "%" })).rows).toEqual([]);
    expect((await statusPage(db, world.adminA, { q: "beta" })).rows).toEqual([]);
    expect((await statusPage(db, world.adminB, {})).rows.map((r) => r.name)).toEqual(["Beta"]);
    expect((await statusPage(db, world.root, { q: "beta" })).rows.map((r) => r.name)).toEqual(["Beta"]);
    expect((await statusPage(db, world.root, { state: "failing" })).rows.map((r) => r.name).sort()).toEqual([
      "Beta",
      "Failing",
    ]);
  });

  it("pages by 50 and keeps a page number in range", async () => {
    for (let i = 0; i < 60; i++)
      await createMailbox(
        db,
        world.root,
        mailboxInput(world.tenantB.id, { name: `Extra ${String(i).padStart(2, "0")}` }),
      );
    const first = await statusPage(db, world.adminB, { page: 1 });
    expect(first).toMatchObject({ total: 61, pages: 2, page: 1 });
    expect(first.rows).toHaveLength(50);
    const second = await statusPage(db, world.adminB, { page: 99 });
    expect(second.page).toBe(2);
    expect(second.rows).toHaveLength(11);
    expect(new Set([...first.rows, ...second.rows].map((r) => r.id)).size).toBe(61);
  });
});
