import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadLaunchEnv } from "./launch-env";
import { prepareDatabase } from "./prepare";

// npm start: validate configuration, build when the sources changed, migrate, create the first admin, serve.

const dev = process.argv.includes("--dev");
const env = loadLaunchEnv();
process.env.NEXTAUTH_URL ||= `http://localhost:${env.PORT}`;

const nextBin = path.join(process.cwd(), "node_modules", "next", "dist", "bin", "next");
// next sets NODE_ENV itself: production for build and start, development for dev.
const { NODE_ENV: _launcherMode, ...rest } = process.env;
const childEnv = { NEXT_TELEMETRY_DISABLED: "1", ...rest } as NodeJS.ProcessEnv;

if (!dev) buildIfNeeded();
await prepareDatabase();

const server = spawn(process.execPath, [nextBin, dev ? "dev" : "start", "-p", String(env.PORT)], { stdio: "inherit", env: childEnv });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

function buildIfNeeded(): void {
  const marker = path.join(".next", "navigator-build-fingerprint");
  const fingerprint = sourceFingerprint();
  if (fs.existsSync(path.join(".next", "BUILD_ID")) && fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === fingerprint) return;
  console.log("Building the portal (first start or changed sources)...");
  const result = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env: childEnv });
  if (result.status !== 0) {
    console.error("The build failed; see the output above.");
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(marker, fingerprint);
}

function sourceFingerprint(): string {
  const hash = createHash("sha256");
  const roots = ["app", "lib", "db", "public", "next.config.js", "package-lock.json", "tsconfig.json"];
  for (const file of roots.flatMap(listFiles).sort()) {
    const stat = fs.statSync(file);
    hash.update(`${file}:${stat.size}:${stat.mtimeMs}\n`);
  }
  return hash.digest("hex");
}

function listFiles(entry: string): string[] {
  if (!fs.existsSync(entry)) return [];
  if (!fs.statSync(entry).isDirectory()) return [entry];
  return fs.readdirSync(entry).flatMap((name) => listFiles(path.join(entry, name)));
}
