import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { describe, expect, it } from "vitest";
import { type Db, migrateDatabase, openDatabase } from "@/db/client";
import * as schema from "@/db/schema";
import { checkHealth } from "@/lib/health";
import { closeOpened, freshDb, openUrl, tempDbFile } from "../support/db";
import { newDatabaseUrl, suiteOnPostgres } from "../support/test-database";

describe("checkHealth", () => {
  it("reports ok when the database accepts a write, with its kind and migration state but not its URL", async () => {
    const health = await checkHealth(freshDb);
    expect(health).toMatchObject({
      ok: true,
      database: { status: "ok", kind: suiteOnPostgres() ? "postgresql" : "sqlite", migrations: "current" },
    });
    expect(JSON.stringify(health)).not.toMatch(/postgres:\/\/|file:|navigator-test-/);
  });

  it("is not ready while migrations are pending", async () => {
    const unmigrated = openUrl(await newDatabaseUrl());
    try {
      const health = await checkHealth(() => unmigrated);
      expect(health).toMatchObject({ ok: false, database: { status: "error", migrations: "pending" } });
      expect(health.database.error).toMatch(/^\d+ of \d+ migrations are not applied yet$/);
    } finally {
      await closeOpened(unmigrated);
    }
  });

  // An SQLite file opened read-only.
  it.skipIf(suiteOnPostgres())("reports an error when the database is read-only", async () => {
    const file = tempDbFile();
    const writable = await freshDbAt(file);
    writable.$client.close();
    const readonly = drizzle(new Database(file, { readonly: true }), { schema }) as Db;
    const health = await checkHealth(() => readonly);
    expect(health.ok).toBe(false);
    expect(health.database.error).toMatch(/SQLITE_READONLY/);
  });

  it("reports an error when the database cannot be opened", async () => {
    const health = await checkHealth(() => {
      throw Object.assign(new Error("unable to open database file"), { code: "SQLITE_CANTOPEN" });
    });
    expect(health).toMatchObject({
      ok: false,
      database: { status: "error", error: "SQLITE_CANTOPEN: unable to open database file" },
    });
  });
});

async function freshDbAt(file: string): Promise<Db> {
  const db = openDatabase(file);
  await migrateDatabase(db);
  return db;
}
