import { randomBytes } from "node:crypto";
import { type Db, getDb, migrateDatabase, openDatabase, openPostgres } from "@/db/client";
import type { UserActor } from "@/lib/auth/actor";
import { createTenant } from "@/lib/tenants/queries";
import { createUser } from "@/lib/users/queries";
import { tempDbPath } from "./temp";
import { newDatabaseUrl, suiteOnPostgres } from "./test-database";

export function tempDbFile(): string {
  return tempDbPath(`navigator-test-${process.pid}-${randomBytes(6).toString("hex")}.db`);
}

/** A new database (an SQLite file, or a PostgreSQL database when the suite runs there) with the real migrations applied. */
export async function freshDb(): Promise<Db> {
  const url = await newDatabaseUrl();
  const db = suiteOnPostgres() ? openPostgres(url) : openDatabase(url.slice("file:".length));
  await migrateDatabase(db);
  urls.set(db, url);
  return db;
}

const urls = new WeakMap<Db, string>();

/** The DATABASE_URL of a database from freshDb, for another process to open it. */
export function urlOf(db: Db): string {
  const url = urls.get(db);
  if (!url) throw new Error("not a database from freshDb()");
  return url;
}

/** Another process's database (a portal's), opened here by its URL; close it with closeOpened. */
export function openUrl(url: string): Db {
  return url.startsWith("postgres") ? openPostgres(url) : openDatabase(url.slice("file:".length));
}

export async function closeOpened(db: Db): Promise<void> {
  const client = db.$client as unknown as { end?: () => Promise<void>; close?: () => void };
  if (client.end) await client.end();
  else client.close?.();
}

/** The process-wide database (the one server actions use), migrated. */
export async function appDb(): Promise<Db> {
  const db = getDb();
  await migrateDatabase(db);
  return db;
}

export const PASSWORD = "correct horse battery";

export type World = Awaited<ReturnType<typeof seedWorld>>;

/** Two tenants, a super-admin and one admin per tenant. */
export async function seedWorld(db: Db) {
  const superUser = await createUser(db, null, {
    email: "root@example.com",
    name: "Root",
    role: "super_admin",
    tenantId: undefined,
    password: PASSWORD,
  });
  const root = asActor(superUser);
  const tenantA = await createTenant(db, root, { name: "Alpha", slug: "alpha" });
  const tenantB = await createTenant(db, root, { name: "Beta", slug: "beta" });
  const adminA = asActor(
    await createUser(db, root, {
      email: "a@alpha.example",
      name: "Ann",
      role: "tenant_admin",
      tenantId: tenantA.id,
      password: PASSWORD,
    }),
  );
  const adminB = asActor(
    await createUser(db, root, {
      email: "b@beta.example",
      name: "Bob",
      role: "tenant_admin",
      tenantId: tenantB.id,
      password: PASSWORD,
    }),
  );
  return { root, tenantA, tenantB, adminA, adminB };
}

export function asActor(user: {
  id: number;
  email: string;
  name: string;
  role: UserActor["role"];
  tenantId: number | null;
}): UserActor {
  const { id, email, name, role, tenantId } = user;
  return { kind: "user", id, email, name, role, tenantId, mustChangePassword: false };
}
