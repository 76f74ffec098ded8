import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./ports";

/** A throwaway PostgreSQL cluster on loopback: its own folder, port and superuser password. */
export type PostgresCluster = {
  /** The URL of a database of this cluster (the maintenance database "postgres" by default). */
  url(database?: string): string;
  /** A new, empty database; its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): void;
  start(): void;
  dir: string;
};

const USER = "navigator";

/** The folder of the newest installed PostgreSQL's programs. */
export function binaries(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(root, v, "bin")).find((bin) => fs.existsSync(path.join(bin, "initdb")));
  if (!found) throw new Error("PostgreSQL is not installed: apt-get install -y postgresql");
  return found;
}

/**
 * initdb refuses to run as root: as root the cluster belongs to the "postgres" account Debian's package
 * creates, otherwise to the user running the tests.
 */
function run(command: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = binaries();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "navigator-pg-"));
  const password = randomBytes(12).toString("hex");
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "password"), password, { mode: 0o600 });
  if (process.getuid?.() === 0) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const data = path.join(dir, "data");
  run(path.join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    USER,
    "--auth=scram-sha-256",
    `--pwfile=${path.join(dir, "password")}`,
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
  const start = () =>
    run(path.join(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "start"]);
  start();
  const url = (database = "postgres") => `postgres://${USER}:${password}@127.0.0.1:${port}/${database}`;
  return {
    dir,
    url,
    start,
    createDatabase: (prefix = "navigator") => createDatabase(url(), prefix),
    stop() {
      try {
        run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      } catch {
        /* already stopped */
      }
    },
  };
}

/** Stops the cluster and removes its folder. */
export function removePostgres(cluster: PostgresCluster): void {
  cluster.stop();
  fs.rmSync(cluster.dir, { recursive: true, force: true });
}

/** A new, empty database on the cluster whose maintenance database `url` names; its URL. */
export async function createDatabase(url: string, prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const created = new URL(url);
  created.pathname = `/${name}`;
  return created.toString();
}
