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
  if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  return drizzle(sqlite, { schema });
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
