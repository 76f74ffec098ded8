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

/** Where the production server finds its direct routes: /api/v1 and the plain pages (app/_plain/direct-routes.ts). */
export const DIRECT_ROUTES_BUNDLE = path.join(".next", "navigator-direct.cjs");

/** The plain pages' island script, served by Next.js under /_next/static/navigator/. */
const ISLANDS_BUNDLE = path.join(".next", "static", "navigator", "islands.js");

const PLAIN = path.resolve("app/_plain");

/**
 * Bundles app/_plain/direct-routes.ts for scripts/serve.mjs, which runs under plain Node: our TypeScript is
 * compiled in, and packages stay external (better-sqlite3 is native). Outside Next.js, what the pages
 * and actions take from next/* comes from the request the plain router answers (app/_plain/server).
 * Then the island script: the plain pages' client components on Preact (app/_plain/islands.tsx).
 */
function bundleDirectRoutes(): boolean {
  try {
    buildSync({
      entryPoints: ["app/_plain/direct-routes.ts"],
      outfile: DIRECT_ROUTES_BUNDLE,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      logLevel: "warning",
      packages: "external",
      jsx: "automatic",
      alias: {
        // "server-only" is the empty module it is on the server.
        "server-only": path.resolve("node_modules/server-only/empty.js"),
        "next/link": path.join(PLAIN, "next-link.tsx"),
        "next/headers": path.join(PLAIN, "server", "next-headers.ts"),
        "next/navigation": path.join(PLAIN, "server", "next-navigation.ts"),
        "next/cache": path.join(PLAIN, "server", "next-cache.ts"),
      },
    });
    buildSync({
      entryPoints: ["app/_plain/islands.tsx"],
      outfile: ISLANDS_BUNDLE,
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      minify: true,
      legalComments: "none",
      logLevel: "warning",
      jsx: "automatic",
      define: { "process.env.NODE_ENV": '"production"' },
      alias: {
        react: path.join(PLAIN, "client", "react.ts"),
        "react-dom": "preact/compat",
        "react/jsx-runtime": "preact/jsx-runtime",
        "next/link": path.join(PLAIN, "next-link.tsx"),
        "next/navigation": path.join(PLAIN, "client", "next-navigation.ts"),
        // A module for the server only must never reach the browser: this makes the build fail instead.
        "server-only": path.join(PLAIN, "client", "server-only-in-an-island"),
      },
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
