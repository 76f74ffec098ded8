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
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  ".env",
  ".env.local",
  ".env.production",
  ".env.production.local",
];

export const NEXT_BIN = path.join(process.cwd(), "node_modules", "next", "dist", "bin", "next");

/** The environment for a next child process: next sets NODE_ENV itself (production for build and start). */
export function nextChildEnv(): NodeJS.ProcessEnv {
  const { NODE_ENV: _launcherMode, ...rest } = process.env;
  return { NEXT_TELEMETRY_DISABLED: "1", ...rest } as unknown as NodeJS.ProcessEnv;
}

/** `next build` in the project folder; true when it succeeded. */
function nextBuild(env: NodeJS.ProcessEnv): boolean {
  return spawnSync(process.execPath, [NEXT_BIN, "build"], { stdio: "inherit", env }).status === 0;
}

/**
 * Runs `next build` unless the last build was made from these exact inputs. Returns false on failure.
 * `root` and `build` are the project folder and the build itself (tests give their own).
 */
export function buildIfNeeded(
  env: NodeJS.ProcessEnv,
  { root = process.cwd(), build = nextBuild }: { root?: string; build?: (env: NodeJS.ProcessEnv) => boolean } = {},
): boolean {
  const marker = path.join(root, ".next", "navigator-build-fingerprint");
  const fingerprint = sourceFingerprint(root);
  if (
    fs.existsSync(path.join(root, ".next", "BUILD_ID")) &&
    fs.existsSync(marker) &&
    fs.readFileSync(marker, "utf8") === fingerprint
  ) {
    return true;
  }
  console.log("Building the portal (first start or changed sources)...");
  if (!build(env)) return false;
  fs.writeFileSync(marker, fingerprint);
  return true;
}

function sourceFingerprint(root: string): string {
  const hash = createHash("sha256");
  for (const file of BUILD_INPUTS.flatMap((entry) => listFiles(root, entry)).sort()) {
    hash.update(
      `${file}:${createHash("sha256")
        .update(fs.readFileSync(path.join(root, file)))
        .digest("hex")}\n`,
    );
  }
  return hash.digest("hex");
}

function listFiles(root: string, entry: string): string[] {
  const full = path.join(root, entry);
  if (!fs.existsSync(full)) return [];
  if (!fs.statSync(full).isDirectory()) return [entry];
  return fs.readdirSync(full).flatMap((name) => listFiles(root, path.join(entry, name)));
}
