import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/ports";
import { tempDir } from "../support/temp";

function startInProduction(env: Record<string, string>) {
  const dataDir = tempDir("navigator-prod-");
  const { AUTH_SECRET: _a, SECRETS_KEYS: _s, ...inherited } = process.env;
  const result = spawnSync(
    process.execPath,
    [path.resolve("node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "scripts/start.ts"],
    {
      env: {
        ...inherited,
        NODE_ENV: "production",
        DATABASE_URL: `file:${dataDir}/db.sqlite`,
        ...env,
      } as NodeJS.ProcessEnv,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  return { ...result, dataDir };
}

describe("start-up in production", () => {
  it("refuses to start without secrets, naming each variable and how to set it, and generates nothing", () => {
    const result = startInProduction({});
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/AUTH_SECRET: AUTH_SECRET is not set \(generate one with: openssl rand -base64 32\)/);
    expect(result.stderr).toMatch(/SECRETS_KEYS: SECRETS_KEYS is not set/);
    expect(result.stderr).toContain("Navigator Mail did not start");
    expect(fs.readdirSync(result.dataDir)).toEqual([]);
  });

  it("refuses a malformed secret", () => {
    const result = startInProduction({ AUTH_SECRET: "too-short", SECRETS_KEYS: "main:not-a-32-byte-key" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("AUTH_SECRET must be at least 32 bytes");
    expect(result.stderr).toContain('SECRETS_KEYS entry "main" must be kid:base64key with a 32-byte key');
  });

  it("refuses plain http in production unless the operator opts out, and then warns", () => {
    const secrets = {
      AUTH_SECRET: "x".repeat(40),
      SECRETS_KEYS: `main:${Buffer.alloc(32, 7).toString("base64")}`,
      PORT: "1",
    };
    const plain = startInProduction({ ...secrets, NEXTAUTH_URL: "http://portal.example.com" });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toContain("NEXTAUTH_URL: in production NEXTAUTH_URL must be the https:// address");
    const missing = startInProduction(secrets);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("NEXTAUTH_URL: in production NEXTAUTH_URL must be the https:// address");
  });

  it("starts over plain http when the operator opts out, with a warning", async () => {
    const dataDir = tempDir("navigator-prod-");
    const child = spawn(
      process.execPath,
      [path.resolve("node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "scripts/start.ts"],
      {
        env: {
          ...process.env,
          NODE_ENV: "production",
          DATABASE_URL: `file:${dataDir}/db.sqlite`,
          AUTH_SECRET: "x".repeat(40),
          SECRETS_KEYS: `main:${Buffer.alloc(32, 7).toString("base64")}`,
          PORT: String(await freePort()),
          NEXTAUTH_URL: "http://portal.example.com",
          ALLOW_INSECURE_HTTP: "true",
        } as NodeJS.ProcessEnv,
        detached: true,
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes("ALLOW_INSECURE_HTTP") && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.kill(-child.pid!, "SIGKILL");
    expect(stderr).toContain("Warning: ALLOW_INSECURE_HTTP=true: the portal is served over plain http");
  });
});
