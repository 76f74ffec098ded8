import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// Every temporary folder and database file the tests make is recorded here and removed when the
// test file ends (tests/support/setup.ts), or the run (the global setup's CA folder).

const made: string[] = [];

/** A new folder under the system's temporary folder, removed when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A path for an SQLite file under the temporary folder; it and its -wal and -shm files go at the end. */
export function tempDbPath(name: string): string {
  const file = path.join(os.tmpdir(), name);
  made.push(file, `${file}-wal`, `${file}-shm`, `${file}-journal`);
  return file;
}

/** Removes everything recorded so far. */
export function removeTemporaries(): void {
  for (const entry of made.splice(0)) fs.rmSync(entry, { recursive: true, force: true });
}
