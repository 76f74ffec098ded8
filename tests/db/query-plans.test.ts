import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { listMailboxesPage } from "@/lib/mailbox/queries";
import { createMailbox } from "@/lib/mailbox/save";
import { listAlerts } from "@/lib/service/alerts/list";
import { statusPage } from "@/lib/service/status";
import { listTestsPage } from "@/lib/service/test-history";
import { listTenantsPage } from "@/lib/tenants/queries";
import { listUsersPage } from "@/lib/users/queries";
import { freshDb, seedWorld, type World } from "../support/db";
import { mailboxInput } from "../support/mailbox";
import { suiteOnPostgres } from "../support/test-database";

let db: Db;
let world: World;
let mailboxId: number;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
  mailboxId = (await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Planned" }))).id;
});

/** The SQL a list function runs, each with SQLite's plan for it under the same parameters. */
async function plansOf(run: () => Promise<unknown>): Promise<{ sql: string; plan: string[] }[]> {
  const client = db.$client;
  const prepare = client.prepare.bind(client);
  const seen: { sql: string; params: unknown[] }[] = [];
  client.prepare = ((source: string) => {
    const statement = prepare(source);
    for (const method of ["all", "get", "run", "iterate"] as const) {
      const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      Object.assign(statement, {
        [method]: (...params: unknown[]) => {
          seen.push({ sql: source, params });
          return original(...params);
        },
      });
    }
    return statement;
  }) as typeof client.prepare;
  try {
    await run();
  } finally {
    client.prepare = prepare;
  }
  return seen
    .filter(({ sql }) => /^\s*select/i.test(sql))
    .map(({ sql, params }) => ({
      sql,
      plan: (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail),
    }));
}

/** A full pass over a table (SCAN without an index), or a sort SQLite must do itself. */
const unindexed = (plan: string[]) =>
  plan.filter((line) => (/^SCAN \w+$/.test(line) && !/USING/.test(line)) || /TEMP B-TREE FOR ORDER BY/.test(line));

// SQLite's planner: EXPLAIN QUERY PLAN.
describe.skipIf(suiteOnPostgres())("the list queries use indexes (EXPLAIN QUERY PLAN)", () => {
  it.each([
    ["tenants, first page", async () => listTenantsPage(db, world.root, {})],
    ["tenants, page 3", async () => listTenantsPage(db, world.root, { page: 3 })],
    ["mailboxes of a tenant", async () => listMailboxesPage(db, world.root, world.tenantA.id, {})],
    ["mailboxes of a tenant, page 2", async () => listMailboxesPage(db, world.root, world.tenantA.id, { page: 2 })],
    ["users of a tenant", async () => listUsersPage(db, world.root, { tenantId: world.tenantA.id })],
    ["users, a tenant admin's", async () => listUsersPage(db, world.adminA, {})],
    ["test history", async () => listTestsPage(db, world.root, { tenantId: world.tenantA.id, mailboxId }, {})],
    [
      "test history, failures",
      async () => listTestsPage(db, world.root, { tenantId: world.tenantA.id, mailboxId }, { outcome: "failed" }),
    ],
    ["alerts, all tenants", async () => listAlerts(db, world.root, {})],
    ["alerts, a tenant admin's", async () => listAlerts(db, world.adminA, {})],
  ])("%s", async (_label, run) => {
    const plans = await plansOf(run);
    expect(plans.length).toBeGreaterThan(0);
    for (const { sql, plan } of plans) expect({ sql, unindexed: unindexed(plan) }).toEqual({ sql, unindexed: [] });
  });

  it("status, a tenant admin's: the tenant's mailboxes by index, sorted by their computed state", async () => {
    // Worst first is a computed state, so its sort cannot come from an index; the rows do.
    const plans = await plansOf(async () => statusPage(db, world.adminA, {}));
    for (const { sql, plan } of plans) {
      const scans = unindexed(plan).filter((line) => !/TEMP B-TREE/.test(line));
      expect({ sql, scans }).toEqual({ sql, scans: [] });
    }
    expect(
      plans
        .flatMap((p) => p.plan)
        .some((line) => /SEARCH mailboxes USING INDEX mailboxes_tenant_health_idx/.test(line)),
    ).toBe(true);
  });

  it("the all-tenants overview reads each mailbox once and finds its tenant and tests by index", async () => {
    // The state is computed per mailbox, so the overview must read them all; everything else is by index.
    const plans = await plansOf(async () => statusPage(db, world.root, {}));
    const lines = plans.flatMap((p) => p.plan);
    expect(
      lines
        .filter((line) => /^SCAN/.test(line) && !/USING/.test(line))
        .every((l) => /mailboxes|listed|SUBQUERY/.test(l)),
    ).toBe(true);
    expect(lines.some((line) => /SEARCH tenants USING INTEGER PRIMARY KEY/.test(line))).toBe(true);
  });

  it("would notice a list query without an index", () => {
    // The check itself: a query on an unindexed column is reported.
    const plan = (
      db.$client
        .prepare("EXPLAIN QUERY PLAN SELECT * FROM tenants WHERE default_cloud = 'global' ORDER BY updated_at")
        .all() as { detail: string }[]
    ).map((r) => r.detail);
    expect(unindexed(plan).length).toBeGreaterThan(0);
  });
});
