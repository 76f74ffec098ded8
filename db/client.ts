import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
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

/** The same, in plain SQL on the connection itself: for a hot query whose drizzle row mapping would dominate. */
export function rawOnce(db: Db, name: string, text: string): Database.Statement {
  return preparedOnce(db, `raw:${name}`, () => db.$client.prepare(text));
}
