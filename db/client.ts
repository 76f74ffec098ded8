import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/node-postgres";
import { migrate as migratePostgres } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { databasePath, getEnv } from "@/lib/env";
import { describeError } from "@/lib/errors";
import * as schema from "./schema";
import * as pgSchema from "./schema.pg";
import { isPostgresUrl, onPostgres } from "./url";

/**
 * The database, typed as the SQLite one: every service builds the same queries and awaits them, which
 * both drivers run. Only this file knows which driver is underneath.
 */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS = path.join(process.cwd(), "db", "migrations");
const PG_MIGRATIONS = path.join(process.cwd(), "db", "migrations-pg");
/** The advisory lock under which one instance migrates while the others starting with it wait. */
const MIGRATION_LOCK = 0x6e766d; // "nvm"

export function openDatabase(file: string): Db {
  if (file !== ":memory:") protectFiles(file);
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  return drizzle(sqlite, { schema });
}

/**
 * The database holds sealed secrets and the audit log: its folder is 0700 and the file 0600, which SQLite
 * copies to the -wal and -shm files it creates. A shared folder (sticky bit, like /tmp) is left as it is.
 */
function protectFiles(file: string): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(dir).mode & 0o1000) === 0) fs.chmodSync(dir, 0o700);
  fs.closeSync(fs.openSync(file, "a", 0o600));
  for (const suffix of ["", "-wal", "-shm"]) {
    if (fs.existsSync(file + suffix)) fs.chmodSync(file + suffix, 0o600);
  }
}

// bigint columns hold milliseconds and counts, well inside a JavaScript number: read them as numbers, as
// SQLite's integers are, not as strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A pool of connections to PostgreSQL, behind the same drizzle API. */
export function openPostgres(url: string, connections = getEnv().DATABASE_POOL_SIZE): Db {
  const pool = new pg.Pool({ connectionString: url, max: connections });
  // A connection the server closed while idle (a restart, a failover) is dropped; the next query opens another.
  pool.on("error", (error) => console.error("database: an idle connection was lost:", describeError(error)));
  return drizzlePostgres(pool, { schema: pgSchema }) as unknown as Db;
}

function poolOf(db: Db): pg.Pool {
  return db.$client as unknown as pg.Pool;
}

/** Whether this connection is PostgreSQL's pool (rather than an SQLite file's). */
function isPostgres(db: Db): boolean {
  return db.$client instanceof pg.Pool;
}

/** The oldest PostgreSQL the portal runs on. */
const POSTGRES_MIN_VERSION = 14;

/**
 * Why the database named by DATABASE_URL cannot be used, in one line for the operator: which server,
 * user or database, never the password.
 */
export function databaseProblem(error: unknown, url: string): string {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  if (!isPostgresUrl(url) || !URL.canParse(url)) return describeError(error);
  const { hostname, port, username, pathname } = new URL(url);
  const server = `${hostname}:${port || 5432}`;
  const database = decodeURIComponent(pathname.slice(1));
  const user = decodeURIComponent(username);
  switch (code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
      return `cannot reach the PostgreSQL server at ${server} (${code})`;
    case "28P01":
      return `PostgreSQL at ${server} refused the password of user "${user}"`;
    case "28000":
      return `PostgreSQL at ${server} refused user "${user}" (pg_hba.conf or role)`;
    case "3D000":
      return `PostgreSQL at ${server} has no database "${database}"`;
    default:
      return describeError(error);
  }
}

/** Applies the migrations not yet applied. On PostgreSQL several instances may start at once: one migrates, under a lock, and the others then find nothing left to do. */
export async function migrateDatabase(db: Db): Promise<void> {
  if (!isPostgres(db)) {
    migrate(db, { migrationsFolder: MIGRATIONS });
    return;
  }
  const connection = await poolOf(db).connect();
  try {
    const version = Number((await connection.query("SHOW server_version_num")).rows[0]?.server_version_num);
    if (Math.floor(version / 10000) < POSTGRES_MIN_VERSION) {
      throw new Error(
        `PostgreSQL ${Math.floor(version / 10000)} is too old: the portal needs ${POSTGRES_MIN_VERSION} or later`,
      );
    }
    await connection.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await migratePostgres(drizzlePostgres(connection), { migrationsFolder: PG_MIGRATIONS });
    } finally {
      await connection.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    connection.release();
  }
}

export type DatabaseKind = "sqlite" | "postgresql";

/** Which database this is, and how many of the migrations it should have are applied. */
export async function migrationState(db: Db): Promise<{ kind: DatabaseKind; applied: number; expected: number }> {
  const postgres = isPostgres(db);
  const folder = postgres ? PG_MIGRATIONS : MIGRATIONS;
  const journal = JSON.parse(fs.readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  let applied = 0;
  try {
    applied = postgres
      ? ((await poolOf(db).query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations")).rows[0]?.n ?? 0)
      : (db.$client.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
  } catch (error) {
    // No migration table yet: nothing is applied. Anything else (the database is down) is the caller's.
    const code = (error as { code?: string }).code;
    if (code !== "42P01" && !/no such table/.test(String((error as Error).message))) throw error;
  }
  return { kind: postgres ? "postgresql" : "sqlite", applied, expected: journal.entries.length };
}

// One connection (SQLite) or pool (PostgreSQL) per process, kept across dev reloads.
const globalForDb = globalThis as unknown as { navigatorDb?: Db };

export function getDb(): Db {
  if (!globalForDb.navigatorDb) {
    if (onPostgres()) globalForDb.navigatorDb = openPostgres(getEnv().DATABASE_URL);
    else {
      const file = databasePath();
      const db = openDatabase(file);
      if (file === ":memory:") migrate(db, { migrationsFolder: MIGRATIONS });
      globalForDb.navigatorDb = db;
    }
  }
  return globalForDb.navigatorDb;
}

export async function closeDb(): Promise<void> {
  const db = globalForDb.navigatorDb;
  globalForDb.navigatorDb = undefined;
  if (!db) return;
  if (isPostgres(db)) await poolOf(db).end();
  else db.$client.close();
}

/** A transaction: the same queries as the connection, inside `transaction()`. */
export type Tx = Db;
/** Either the connection or a transaction on it. */
export type Queryable = Db | Tx;

const openTransaction = new AsyncLocalStorage<Db>();
const transactionQueue = new WeakMap<Db, Promise<void>>();

/**
 * Runs `work` in one write transaction and returns what it returns; an error rolls everything back.
 * On SQLite the transaction takes the write lock when it begins (BEGIN IMMEDIATE): a deferred one that
 * read and then wrote would fail with SQLITE_BUSY, without waiting, whenever another process (a second
 * portal, the command line) had written in between. The process has one connection, so its
 * transactions take turns; a `transaction()` inside another joins it. The work does database work only,
 * never network I/O, so a turn is short.
 */
export async function transaction<T>(db: Queryable, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (openTransaction.getStore() === db) return work(db);
  if (isPostgres(db)) return postgresTransaction(db, work);
  const before = transactionQueue.get(db) ?? Promise.resolve();
  let done = () => {};
  const turn = new Promise<void>((resolve) => {
    done = resolve;
  });
  transactionQueue.set(
    db,
    before.then(() => turn),
  );
  await before;
  try {
    db.$client.exec("BEGIN IMMEDIATE");
    try {
      const result = await openTransaction.run(db, () => work(db));
      db.$client.exec("COMMIT");
      return result;
    } catch (error) {
      if (db.$client.inTransaction) db.$client.exec("ROLLBACK");
      throw error;
    }
  } finally {
    done();
  }
}

const statements = new WeakMap<object, Map<string, unknown>>();

/**
 * A query prepared once per connection and reused, inside a transaction too: for the few queries on the hot
 * path of the API, where building and preparing the SQL each time would cost more than running it.
 */
export function preparedOnce<T>(db: Queryable, name: string, prepare: (db: Queryable) => T): T {
  // A transaction runs on its connection's session: a statement prepared there serves both.
  const key = (db as unknown as { session?: object }).session ?? db;
  let byName = statements.get(key);
  if (!byName) {
    byName = new Map();
    statements.set(key, byName);
  }
  let statement = byName.get(name) as T | undefined;
  if (!statement) {
    statement = prepare(db);
    byName.set(name, statement);
  }
  return statement;
}

/** How often a transaction PostgreSQL refused to serialize is run again before the error is let through. */
const SERIALIZATION_ATTEMPTS = 25;

/**
 * On PostgreSQL every transaction is SERIALIZABLE: it behaves as if the transactions ran one after
 * another, which is what SQLite's single writer gives. What the check-then-write transactions rely on
 * (single-flight tests, limits, compare-and-set, leases, claims, version checks) holds on both. A
 * transaction PostgreSQL cannot fit in that order fails with 40001 (or a deadlock, 40P01), and is run
 * again from the start, after a random wait that grows with each refusal.
 */
async function postgresTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const postgres = db as unknown as ReturnType<typeof drizzlePostgres>;
  for (let attempt = 1; ; attempt++) {
    try {
      return await postgres.transaction(
        (tx) => {
          const inner = tx as unknown as Db;
          return openTransaction.run(inner, () => work(inner));
        },
        { isolationLevel: "serializable" },
      );
    } catch (error) {
      const code =
        (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
      if (attempt >= SERIALIZATION_ATTEMPTS || (code !== "40001" && code !== "40P01")) throw error;
      // A random wait that grows with each refusal, so that a burst of contenders spreads out.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 2 ** attempt)));
    }
  }
}
