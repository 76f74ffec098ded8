import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresCluster, removePostgres, startPostgres } from "../support/postgres";

// The portal on a real PostgreSQL cluster, started for this file. DATABASE_URL picks the driver and the
// tables when the modules load, so they are imported only once it names the cluster.
let cluster: PostgresCluster;
let app: Awaited<ReturnType<typeof load>>;
let db: import("@/db/client").Db;
let world: import("../support/db").World;

async function load() {
  return {
    client: await import("@/db/client"),
    schema: await import("@/db/schema"),
    support: await import("../support/db"),
    mailbox: await import("../support/mailbox"),
    save: await import("@/lib/mailbox/save"),
    attempts: await import("@/lib/auth/attempts"),
    tenants: await import("@/lib/tenants/queries"),
    mailboxes: await import("@/lib/mailbox/queries"),
    users: await import("@/lib/users/queries"),
    status: await import("@/lib/service/status"),
    history: await import("@/lib/service/test-history"),
    alerts: await import("@/lib/service/alerts/list"),
    health: await import("@/lib/health"),
    drizzle: await import("drizzle-orm"),
    pgCore: await import("drizzle-orm/pg-core"),
  };
}

/** Plain SQL on a database of the cluster, through a connection of its own. */
async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cluster = await startPostgres();
  process.env.DATABASE_URL = await cluster.createDatabase();
  app = await load();
  db = app.client.getDb();
  await app.client.migrateDatabase(db);
  world = await app.support.seedWorld(db);
});

afterAll(async () => {
  await app?.client.closeDb();
  if (cluster) removePostgres(cluster);
});

describe("the portal on PostgreSQL", () => {
  it("uses PostgreSQL's tables and answers the health check", async () => {
    expect(app.drizzle.is(app.schema.mailboxes, app.pgCore.PgTable)).toBe(true);
    expect(await app.health.checkHealth(app.client.getDb)).toMatchObject({ ok: true, database: { status: "ok" } });
  });

  it("migrates once when four instances start at the same moment", async () => {
    const url = await cluster.createDatabase("racing");
    const instances = Array.from({ length: 4 }, () => app.client.openPostgres(url));
    try {
      await Promise.all(instances.map((instance) => app.client.migrateDatabase(instance)));
      const applied = await query(url, "SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
      const files = fs.readdirSync("db/migrations-pg").filter((f) => f.endsWith(".sql"));
      expect(applied).toEqual([{ n: files.length }]);
    } finally {
      await Promise.all(instances.map((instance) => (instance.$client as unknown as { end(): Promise<void> }).end()));
    }
  });

  it("keeps the audit log append-only", async () => {
    const url = process.env.DATABASE_URL!;
    const [before] = await query(url, "SELECT count(*)::int AS n FROM audit_log");
    expect(before!.n).toBeGreaterThan(0);
    await expect(query(url, "UPDATE audit_log SET actor_email = 'someone-else'")).rejects.toThrow(/append-only/);
    await expect(query(url, "DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    await expect(query(url, "TRUNCATE audit_log")).rejects.toThrow(/append-only/);
    expect(await query(url, "SELECT count(*)::int AS n FROM audit_log")).toEqual([before]);
  });

  it("saves a mailbox once when twenty saves of the same version race, and refuses the rest", async () => {
    const created = await app.save.createMailbox(
      db,
      world.root,
      app.mailbox.mailboxInput(world.tenantA.id, { name: "Raced on PostgreSQL" }),
    );
    const saves = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        app.save.updateMailbox(db, world.root, {
          ...app.mailbox.mailboxInput(world.tenantA.id, { name: `Raced on PostgreSQL ${i}`, password: "" }),
          mailboxId: created.id,
          version: created.version,
        }),
      ),
    );
    const saved = saves.filter((s) => s.status === "fulfilled");
    expect(saved).toHaveLength(1);
    for (const refused of saves.filter((s) => s.status === "rejected")) {
      expect(String((refused as PromiseRejectedResult).reason)).toMatch(/was changed by .* reload/);
    }
    const stored = await app.mailboxes.getMailboxFor(db, world.root, world.tenantA.id, created.id);
    expect(stored.version).toBe(created.version + 1);
    expect(stored.name).toBe((saved[0] as PromiseFulfilledResult<{ name: string }>).value.name);
  });

  it("counts a burst of parallel sign-in attempts against the limit, as one writer would", async () => {
    const email = `burst-${Date.now()}@example.com`;
    const reservations = await Promise.all(
      Array.from({ length: 25 }, () => app.attempts.reserveAttempt(db, email, "203.0.113.9")),
    );
    expect(reservations.filter((r) => r.ok)).toHaveLength(app.attempts.MAX_FAILURES);
  });

  it("runs the list pages' queries", async () => {
    const created = await app.save.createMailbox(
      db,
      world.adminA,
      app.mailbox.mailboxInput(world.tenantA.id, { name: "Listed on PostgreSQL" }),
    );
    const tenants = await app.tenants.listTenantsPage(db, world.root, {});
    expect(tenants.rows.map((t) => t.slug)).toEqual(expect.arrayContaining(["alpha", "beta"]));
    const mailboxes = await app.mailboxes.listMailboxesPage(db, world.adminA, world.tenantA.id, { q: "listed" });
    expect(mailboxes.rows.map((m) => m.name)).toEqual(["Listed on PostgreSQL"]);
    const users = await app.users.listUsersPage(db, world.root, { tenantId: world.tenantA.id });
    expect(users.rows.map((u) => u.email)).toEqual(["a@alpha.example"]);
    const status = await app.status.statusPage(db, world.adminA, {});
    expect(status.rows.map((r) => r.name)).toEqual(expect.arrayContaining(["Listed on PostgreSQL"]));
    const history = await app.history.listTestsPage(
      db,
      world.root,
      { tenantId: world.tenantA.id, mailboxId: created.id },
      {},
    );
    expect(history.rows).toEqual([]);
    const alerts = await app.alerts.listAlerts(db, world.root, {});
    expect(alerts.rows).toEqual([]);
  });

  it("stops db:migrate with one line naming DATABASE_URL and the cause, never the password", async () => {
    const migrate = (url: string) =>
      spawnSync(
        process.execPath,
        [path.resolve("node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "scripts/migrate.ts"],
        { env: { ...process.env, DATABASE_URL: url }, encoding: "utf8", timeout: 60_000 },
      );
    const good = new URL(cluster.url());
    const port = (await import("../support/ports")).freePort;
    const cases: [URL, RegExp][] = [
      [
        Object.assign(new URL(good), { port: String(await port()), password: "s3cret-canary" }),
        /^Migrations not applied: DATABASE_URL: cannot reach the PostgreSQL server at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/,
      ],
      [
        Object.assign(new URL(good), { password: "s3cret-canary" }),
        /^Migrations not applied: DATABASE_URL: PostgreSQL at 127\.0\.0\.1:\d+ refused the password of user "navigator"$/,
      ],
      [
        Object.assign(new URL(good), { pathname: "/no_such_database" }),
        /^Migrations not applied: DATABASE_URL: PostgreSQL at 127\.0\.0\.1:\d+ has no database "no_such_database"$/,
      ],
    ];
    for (const [url, line] of cases) {
      const run = migrate(url.toString());
      expect(run.status).toBe(1);
      expect(run.stderr.trim()).toMatch(line);
      expect(run.stdout + run.stderr).not.toContain("s3cret-canary");
      expect(run.stdout + run.stderr).not.toContain(good.password);
    }
  });

  it("answers 503 while the database is down and recovers when it returns, without restarting", async () => {
    const portalDb = app.client.getDb;
    expect((await app.health.checkHealth(portalDb)).ok).toBe(true);
    cluster.stop();
    try {
      const down = await app.health.checkHealth(portalDb);
      expect(down).toMatchObject({ ok: false, database: { status: "error" } });
      expect(down.database.error).toMatch(/ECONNREFUSED|terminat|shut/i);
      expect(JSON.stringify(down)).not.toContain(new URL(cluster.url()).password);
    } finally {
      cluster.start();
    }
    await expect.poll(async () => (await app.health.checkHealth(portalDb)).ok, { timeout: 20_000 }).toBe(true);
    // And the services work again on the same pool.
    expect((await app.tenants.listTenantsPage(db, world.root, {})).rows.length).toBeGreaterThan(1);
  });
});
