import "server-only";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { databasePath } from "@/lib/env";
import * as schema from "./schema";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS = path.join(process.cwd(), "db", "migrations");

export function openDatabase(file: string): Db {
  if (file !== ":memory:") protectFiles(file);
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  const db = drizzle(sqlite, { schema });
  // Every transaction takes the write lock when it begins (BEGIN IMMEDIATE). A deferred one that read
  // and then wrote would fail with SQLITE_BUSY, without waiting, whenever another process (a second
  // portal, the scheduler of another, the command line) had written in between.
  const transaction = db.transaction.bind(db);
  db.transaction = ((run, config) => transaction(run, { behavior: "immediate", ...config })) as Db["transaction"];
  return db;
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

export function migrateDatabase(db: Db): void {
  migrate(db, { migrationsFolder: MIGRATIONS });
}

// One connection per process, kept across dev reloads.
const globalForDb = globalThis as unknown as { navigatorDb?: Db };

export function getDb(): Db {
  if (!globalForDb.navigatorDb) {
    const db = openDatabase(databasePath());
    if (databasePath() === ":memory:") migrateDatabase(db);
    globalForDb.navigatorDb = db;
  }
  return globalForDb.navigatorDb;
}

export function closeDb(): void {
  globalForDb.navigatorDb?.$client.close();
  globalForDb.navigatorDb = undefined;
}

export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Either the connection or a transaction on it. */
export type Queryable = Db | Tx;

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

/** The same, in plain SQL on the connection itself: for a hot query whose drizzle row mapping would dominate. */
export function rawOnce(db: Db, name: string, text: string): Database.Statement {
  return preparedOnce(db, `raw:${name}`, () => db.$client.prepare(text));
}
