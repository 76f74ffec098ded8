import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { resolveActor, SESSION_MAX_AGE_SECONDS } from "@/lib/auth/actor";
import { freshDb, seedWorld, type World } from "../../support/db";

let db: Db;
let world: World;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

describe("resolveActor", () => {
  it("returns the user behind a fresh session", async () => {
    const actor = await resolveActor(db, { userId: world.adminA.id, sessionVersion: 0, signedInAt: Date.now() });
    expect(actor).toEqual(world.adminA);
  });

  it("ends a session after 8 hours", async () => {
    const now = Date.now();
    const claims = { userId: world.adminA.id, sessionVersion: 0, signedInAt: now - SESSION_MAX_AGE_SECONDS * 1000 - 1 };
    expect(await resolveActor(db, claims, now)).toBeNull();
    expect(
      await resolveActor(db, { ...claims, signedInAt: now - SESSION_MAX_AGE_SECONDS * 1000 + 1000 }, now),
    ).not.toBeNull();
  });

  it("ends the sessions of a user who is disabled or whose session version moved on", async () => {
    const claims = { userId: world.adminB.id, sessionVersion: 0, signedInAt: Date.now() };
    expect(await resolveActor(db, { ...claims, sessionVersion: 1 })).toBeNull();
    await db.update(users).set({ disabled: true }).where(eq(users.id, world.adminB.id));
    expect(await resolveActor(db, claims)).toBeNull();
  });

  it("refuses unknown users and no session", async () => {
    expect(await resolveActor(db, { userId: 9999, sessionVersion: 0, signedInAt: Date.now() })).toBeNull();
    expect(await resolveActor(db, null)).toBeNull();
  });
});
