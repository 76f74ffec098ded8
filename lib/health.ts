import "server-only";
import type { Db } from "@/db/client";
import { healthChecks } from "@/db/schema";
import { describeError } from "@/lib/errors";

export type Health = { ok: boolean; database: { status: "ok" | "error"; latencyMs: number; error?: string } };

export async function checkHealth(open: () => Db | Promise<Db>): Promise<Health> {
  const started = performance.now();
  try {
    const db = await open();
    const at = new Date();
    await db.insert(healthChecks).values({ id: 1, at }).onConflictDoUpdate({ target: healthChecks.id, set: { at } });
    return { ok: true, database: { status: "ok", latencyMs: elapsed(started) } };
  } catch (error) {
    // SQLite's own message and code name the problem (read-only, locked, not a database) without secrets.
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
