import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog } from "@/db/schema";
import { diffChanges, listAuditFor } from "@/lib/audit/log";
import { freshDb, seedWorld, type World } from "../support/db";

let db: Db;
let world: World;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

describe("audit log", () => {
  it("is append-only: updates and deletes are refused by the database", async () => {
    const count = (await db.select().from(auditLog)).length;
    expect(count).toBeGreaterThan(0);
    // The database's own refusal, under the driver's "Failed query" wrapper.
    const refusal = (error: { message: string; cause?: { message: string } }) =>
      /append-only/.test(error.cause?.message ?? error.message);
    await expect(db.update(auditLog).set({ actorEmail: "someone-else" })).rejects.toSatisfy(refusal);
    await expect(db.delete(auditLog)).rejects.toSatisfy(refusal);
    expect((await db.select().from(auditLog)).length).toBe(count);
  });

  it("shows tenant admins their tenant's entries only", async () => {
    const mine = await listAuditFor(db, world.adminA);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.tenantId === world.tenantA.id)).toBe(true);
    expect((await listAuditFor(db, world.root)).length).toBeGreaterThan(mine.length);
  });

  it("diffs only what changed and never shows a secret's value", () => {
    const changes = diffChanges(
      { name: "a", login: "x", password: "old-secret" },
      { name: "b", login: "x", password: "new-secret" },
      ["password"],
    );
    expect(changes).toEqual({ name: { from: "a", to: "b" }, password: "changed" });
    expect(JSON.stringify(changes)).not.toMatch(/secret/);
  });
});
