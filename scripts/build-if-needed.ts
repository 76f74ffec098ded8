import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Everything `next build` reads: the app and what it imports, the files Next.js picks up by name
 * (proxy.ts, instrumentation.ts, .env files), its configuration and the installed packages. A change
 * to any of them means the last build is stale.
 */
export const BUILD_INPUTS = [
  "app",
  "lib",
  "db",
  "public",
  "proxy.ts",
  "instrumentation.ts",
  "next.config.js",
  "next-env.d.ts",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  ".env",
  ".env.local",
  ".env.production",
  ".env.production.local",
];

export const NEXT_BIN = path.join(process.cwd(), "node_modules", "next", "dist", "bin", "next");

const MARKER = path.join(".next", "navigator-build-fingerprint");

/** The environment for a next child process: next sets NODE_ENV itself (production for build and start). */
export function nextChildEnv(): NodeJS.ProcessEnv {
  const { NODE_ENV: _launcherMode, ...rest } = process.env;
  return { NEXT_TELEMETRY_DISABLED: "1", ...rest } as unknown as NodeJS.ProcessEnv;
}

/** Runs `next build` unless the last build was made from these exact inputs. Returns false on failure. */
export function buildIfNeeded(env: NodeJS.ProcessEnv): boolean {
  const fingerprint = sourceFingerprint();
  if (
    fs.existsSync(path.join(".next", "BUILD_ID")) &&
    fs.existsSync(MARKER) &&
    fs.readFileSync(MARKER, "utf8") === fingerprint
  ) {
    return true;
  }
  console.log("Building the portal (first start or changed sources)...");
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], { stdio: "inherit", env });
  if (result.status !== 0) return false;
  fs.writeFileSync(MARKER, fingerprint);
  return true;
}

function sourceFingerprint(): string {
  const hash = createHash("sha256");
  for (const file of BUILD_INPUTS.flatMap(listFiles).sort()) {
    hash.update(`${file}:${createHash("sha256").update(fs.readFileSync(file)).digest("hex")}\n`);
  }
  return hash.digest("hex");
}

function listFiles(entry: string): string[] {
  if (!fs.existsSync(entry)) return [];
  if (!fs.statSync(entry).isDirectory()) return [entry];
  return fs.readdirSync(entry).flatMap((name) => listFiles(path.join(entry, name)));
}
