import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";

const SOURCES = ["app", "lib", "db", "public", "next.config.js", "package-lock.json", "tsconfig.json"];

export const NEXT_BIN = path.join(process.cwd(), "node_modules", "next", "dist", "bin", "next");

/** The environment for a next child process: next sets NODE_ENV itself (production for build and start). */
export function nextChildEnv(): NodeJS.ProcessEnv {
  const { NODE_ENV: _launcherMode, ...rest } = process.env;
  return { NEXT_TELEMETRY_DISABLED: "1", ...rest } as unknown as NodeJS.ProcessEnv;
}

/** Runs `next build` unless the last build was made from these exact sources. Returns false on failure. */
export function buildIfNeeded(env: NodeJS.ProcessEnv): boolean {
  const marker = path.join(".next", "navigator-build-fingerprint");
  const fingerprint = sourceFingerprint();
  if (
    fs.existsSync(path.join(".next", "BUILD_ID")) &&
    fs.existsSync(marker) &&
    fs.readFileSync(marker, "utf8") === fingerprint
  ) {
    return true;
  }
  console.log("Building the portal (first start or changed sources)...");
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], { stdio: "inherit", env });
  if (result.status !== 0) return false;
  if (!bundleDirectRoutes()) return false;
  fs.writeFileSync(marker, fingerprint);
  return true;
}

/** Where the production server finds its direct routes: /api/v1 and the plain HTML pages (lib/direct-routes.ts). */
export const DIRECT_ROUTES_BUNDLE = path.join(".next", "navigator-direct.cjs");

/**
 * Bundles lib/direct-routes.ts for scripts/serve.mjs, which runs under plain Node: our TypeScript is
 * compiled in, and packages stay external (better-sqlite3 is native).
 */
function bundleDirectRoutes(): boolean {
  try {
    buildSync({
      entryPoints: ["lib/direct-routes.ts"],
      outfile: DIRECT_ROUTES_BUNDLE,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      logLevel: "warning",
      // Packages load from node_modules at run time; "server-only" is the empty module it is on the server.
      packages: "external",
      // next/link is the plain anchor it renders anyway in a page without the App Router (app/_plain).
      alias: {
        "server-only": path.resolve("node_modules/server-only/empty.js"),
        "next/link": path.resolve("app/_plain/next-link.tsx"),
      },
      jsx: "automatic",
    });
    return true;
  } catch {
    return false;
  }
}

function sourceFingerprint(): string {
  const hash = createHash("sha256");
  for (const file of SOURCES.flatMap(listFiles).sort()) {
    hash.update(`${file}:${createHash("sha256").update(fs.readFileSync(file)).digest("hex")}\n`);
  }
  return hash.digest("hex");
}

function listFiles(entry: string): string[] {
  if (!fs.existsSync(entry)) return [];
  if (!fs.statSync(entry).isDirectory()) return [entry];
  return fs.readdirSync(entry).flatMap((name) => listFiles(path.join(entry, name)));
}
