import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, transaction } from "@/db/client";
import { tenants } from "@/db/schema";
import { tempDir } from "../support/temp";
import { suiteOnPostgres } from "../support/test-database";

const mode = (file: string) => fs.statSync(file).mode & 0o777;

// SQLite's own files and locking; PostgreSQL's counterparts are in tests/db/postgres.test.ts.
describe.skipIf(suiteOnPostgres())("the database files", () => {
  it("live in a 0700 folder, and the database, -wal and -shm files are 0600", async () => {
    const dir = path.join(tempDir("navigator-modes-"), "data");
    const file = path.join(dir, "navigator-mail.db");
    const db = openDatabase(file);
    await migrateDatabase(db);
    await db.insert(tenants).values({ slug: "modes", name: "Modes" });
    expect(mode(dir)).toBe(0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);
    db.$client.close();
  });

  it("tightens an existing folder and file that were left open", async () => {
    const dir = tempDir("navigator-modes-");
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, "old.db");
    fs.writeFileSync(file, "", { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const db = openDatabase(file);
    await migrateDatabase(db);
    expect(mode(dir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    db.$client.close();
  });
});

describe.skipIf(suiteOnPostgres())("transactions across processes", () => {
  it("take the write lock at BEGIN, so another connection's write cannot make them fail halfway", async () => {
    const file = path.join(tempDir("navigator-immediate-"), "db.sqlite");
    const db = openDatabase(file);
    await migrateDatabase(db);
    const other = openDatabase(file);
    other.$client.pragma("busy_timeout = 50");
    let otherWrote = true;
    // Read, let the other connection try to write, then write: a deferred transaction would lose here
    // with SQLITE_BUSY_SNAPSHOT; this one makes the other connection wait (and give up) instead.
    await transaction(db, async (tx) => {
      await tx.select().from(tenants);
      try {
        await other.insert(tenants).values({ slug: "other", name: "Other" });
      } catch {
        otherWrote = false;
      }
      await tx.insert(tenants).values({ slug: "mine", name: "Mine" });
    });
    expect(otherWrote).toBe(false);
    expect((await db.select().from(tenants)).map((t) => t.slug)).toEqual(["mine"]);
    db.$client.close();
    other.$client.close();
  });
});
