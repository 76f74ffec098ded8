import "server-only";
import { type DatabaseKind, type Db, migrationState } from "@/db/client";
import { healthChecks } from "@/db/schema";
import { describeError } from "@/lib/errors";

export type Health = {
  ok: boolean;
  database: {
    status: "ok" | "error";
    latencyMs: number;
    /** Which database, never where: the URL may hold a password. */
    kind?: DatabaseKind;
    /** "pending" while this version's migrations are not all applied: the instance is not ready. */
    migrations?: "current" | "pending";
    error?: string;
  };
};

export async function checkHealth(open: () => Db | Promise<Db>): Promise<Health> {
  const started = performance.now();
  try {
    const db = await open();
    const { kind, applied, expected } = await migrationState(db);
    if (applied < expected) {
      return {
        ok: false,
        database: {
          status: "error",
          latencyMs: elapsed(started),
          kind,
          migrations: "pending",
          error: `${expected - applied} of ${expected} migrations are not applied yet`,
        },
      };
    }
    const at = new Date();
    await db.insert(healthChecks).values({ id: 1, at }).onConflictDoUpdate({ target: healthChecks.id, set: { at } });
    return { ok: true, database: { status: "ok", latencyMs: elapsed(started), kind, migrations: "current" } };
  } catch (error) {
    // The database's own message and code name the problem (read-only, locked, refused) without secrets:
    // neither SQLite nor PostgreSQL repeats the password.
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    console.error("health: database check failed:", describeError(error));
    return {
      ok: false,
      database: { status: "error", latencyMs: elapsed(started), error: code ? `${code}: ${message}` : message },
    };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
