import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import * as schema from "@/db/schema";
import { checkHealth } from "@/lib/health";
import { freshDb, tempDbFile } from "../support/db";
import { suiteOnPostgres } from "../support/test-database";

describe("checkHealth", () => {
  it("reports ok when the database accepts a write", async () => {
    const health = await checkHealth(freshDb);
    expect(health.ok).toBe(true);
    expect(health.database.status).toBe("ok");
  });

  // An SQLite file opened read-only.
  it.skipIf(suiteOnPostgres())("reports an error when the database is read-only", async () => {
    const file = tempDbFile();
    const writable = freshDbAt(file);
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

function freshDbAt(file: string): Db {
  const db = drizzle(new Database(file), { schema }) as Db;
  db.$client.exec("CREATE TABLE health_checks (id integer primary key, at integer not null)");
  return db;
}
