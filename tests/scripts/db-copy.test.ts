import { spawn } from "node:child_process";
import path from "node:path";
import { eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mailboxes } from "@/db/schema";
import { createApiKey } from "@/lib/api-keys/keys";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { freshDb, seedWorld, urlOf, type World } from "../support/db";
import { type PostgresCluster, removePostgres, startPostgres } from "../support/postgres";
import { type Rig, startRig } from "../support/rig/rig";
import { suiteOnPostgres } from "../support/test-database";

// Moving an SQLite install to PostgreSQL. The source is an SQLite file, so this runs in the SQLite suite.
let cluster: PostgresCluster;
let rig: Rig;
let db: Db;
let world: World;
let mailboxId: number;

type Run = { status: number | null; stdout: string; stderr: string };

/** Asynchronous on purpose: the rig's emulator answers from this very process. */
function script(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(
    process.execPath,
    [path.resolve("node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", file, ...args],
    { env: { ...process.env, ...env } as NodeJS.ProcessEnv },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

async function query(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

const TABLES = ["tenants", "users", "mailboxes", "token_caches", "api_keys", "audit_log", "mailbox_tests"];

beforeAll(async () => {
  if (suiteOnPostgres()) return;
  [cluster, rig] = await Promise.all([startPostgres(), startRig()]);
  db = await freshDb();
  world = await seedWorld(db);
  const user = rig.addUser();
  const mailbox = await createMailbox(
    db,
    world.root,
    saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...rig.mailboxForm(user, { name: "Invoices" }) }),
  );
  mailboxId = mailbox.id;
  await createApiKey(db, world.root, {
    tenantId: world.tenantA.id,
    name: "ERP",
    scopes: ["tokens:issue"],
    mailboxIds: [],
  });
  // A test of the saved settings fills the sealed token cache, as in a running install.
  const first = await script("scripts/mailbox-test.ts", [String(mailboxId)], {
    DATABASE_URL: urlOf(db),
    ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
  });
  expect(first.status, first.stdout + first.stderr).toBe(0);
});

afterAll(async () => {
  await rig?.stop();
  if (cluster) removePostgres(cluster);
});

describe.skipIf(suiteOnPostgres())("npm run db:copy", () => {
  it("copies every row into an empty PostgreSQL database, sealed values as they are, and says what it copied", async () => {
    const target = await cluster.createDatabase("copied");
    const run = await script("scripts/db-copy.ts", ["--from", urlOf(db), "--to", target]);
    expect(run.status, run.stderr).toBe(0);
    const password = new URL(target).password;
    expect(run.stdout + run.stderr).not.toContain(password);
    for (const table of TABLES) {
      const [copied] = await query(target, `SELECT count(*)::int AS n FROM ${table}`);
      expect(copied!.n, table).toBeGreaterThan(0);
      expect(run.stdout).toMatch(new RegExp(`^${table} +${copied!.n}$`, "m"));
    }
    const [row] = await query(target, "SELECT password_sealed FROM mailboxes WHERE id = $1", [mailboxId]);
    const [original] = await db.select().from(mailboxes).where(eq(mailboxes.id, mailboxId));
    expect(row!.password_sealed).toBe(original!.passwordSealed);
    // New rows continue after the copied ids.
    const [next] = await query(
      target,
      "INSERT INTO tenants (slug, name, created_at, updated_at) VALUES ('new', 'New', 0, 0) RETURNING id",
    );
    expect(Number(next!.id)).toBeGreaterThan(world.tenantB.id);

    // The portal on PostgreSQL tests the mailbox from the copied token cache: no request to Entra.
    const before = rig.entra.tokenRequests();
    const test = await script("scripts/mailbox-test.ts", [String(mailboxId)], {
      DATABASE_URL: target,
      ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
      MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
    });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(rig.entra.tokenRequests() - before).toBe(0);
  });

  it("refuses a target that is not empty, and changes nothing there", async () => {
    const target = await cluster.createDatabase("full");
    expect((await script("scripts/db-copy.ts", ["--from", urlOf(db), "--to", target])).status).toBe(0);
    const [before] = await query(target, "SELECT count(*)::int AS n FROM audit_log");
    const again = await script("scripts/db-copy.ts", ["--from", urlOf(db), "--to", target]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/the target is not empty: \w+ has rows/);
    expect(await query(target, "SELECT count(*)::int AS n FROM audit_log")).toEqual([before]);
  });

  it("refuses a missing or malformed argument with its usage", async () => {
    for (const args of [[], ["--from", urlOf(db)], ["--from", urlOf(db), "--to", "mysql://x"]]) {
      const run = await script("scripts/db-copy.ts", args);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("usage: npm run db:copy -- --from file:");
    }
  });
});
