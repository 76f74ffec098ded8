import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

function startInProduction(env: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "navigator-prod-"));
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
});
