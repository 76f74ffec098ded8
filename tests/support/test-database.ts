import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { binaries, createDatabase } from "./postgres";
import { tempDbPath } from "./temp";

// The suite runs on SQLite files, or with NAVIGATOR_TEST_DATABASE=postgres on PostgreSQL: the global
// setup then starts one throwaway cluster and every test file, test database and portal gets a
// database of its own on it.

/** The cluster's maintenance URL, set by the global setup when the suite runs on PostgreSQL. */
const clusterUrl = () => process.env.NAVIGATOR_TEST_PG_URL;

export function suiteOnPostgres(): boolean {
  return Boolean(clusterUrl());
}

/** A new, empty database: a database of the suite's PostgreSQL cluster, or an SQLite file removed at the end. */
export async function newDatabaseUrl(): Promise<string> {
  const base = clusterUrl();
  if (!base) return `file:${tempDbPath(`navigator-test-${process.pid}-${randomBytes(6).toString("hex")}.db`)}`;
  return createDatabase(base, `t_${process.pid}`);
}

/**
 * Everything a database holds on disk, as bytes: the SQLite file and its write-ahead log, or a data dump
 * of the PostgreSQL database. For tests that no secret is stored in clear.
 */
export function databaseBytes(url: string): Buffer {
  if (!url.startsWith("postgres")) {
    const file = url.slice("file:".length);
    return Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
  }
  return execFileSync(path.join(binaries(), "pg_dump"), ["--data-only", url], { maxBuffer: 1 << 28 });
}
