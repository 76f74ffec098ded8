import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "@/lib/env";
import { ensureLocalSecrets } from "@/lib/local-secrets";
import { tempDir } from "../support/temp";

const KEY = Buffer.alloc(32, 7).toString("base64");
const valid = { AUTH_SECRET: "x".repeat(32), SECRETS_KEYS: `k1:${KEY}` };

function problems(source: Record<string, string | undefined>): string[] {
  try {
    parseEnv(source);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as EnvError).problems;
  }
}

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    const env = parseEnv(valid);
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBe("file:./data/navigator-mail.db");
    expect(env.SECRETS_KEYS).toEqual([{ id: "k1", key: Buffer.alloc(32, 7) }]);
    expect(env.MAIL_ALLOW_PRIVATE).toEqual([]);
  });

  it.each([
    ["missing AUTH_SECRET", { SECRETS_KEYS: valid.SECRETS_KEYS }, /AUTH_SECRET.*openssl rand/],
    ["short AUTH_SECRET", { ...valid, AUTH_SECRET: "short" }, /AUTH_SECRET must be at least 32 bytes/],
    ["missing SECRETS_KEYS", { AUTH_SECRET: valid.AUTH_SECRET }, /SECRETS_KEYS/],
    ["16-byte key", { ...valid, SECRETS_KEYS: `k1:${Buffer.alloc(16).toString("base64")}` }, /32-byte key/],
    ["key without id", { ...valid, SECRETS_KEYS: KEY }, /SECRETS_KEYS/],
    ["port out of range", { ...valid, PORT: "70000" }, /^PORT/],
    ["database URL scheme", { ...valid, DATABASE_URL: "mysql://x" }, /DATABASE_URL must be file:/],
    [
      "malformed PostgreSQL URL",
      { ...valid, DATABASE_URL: "postgres://navigator:s3cret-pw@db.example:99999/mail" },
      /DATABASE_URL is not a valid postgres:\/\/ URL(?![\s\S]*s3cret-pw)/,
    ],
    [
      "http authority host",
      { ...valid, ENTRA_AUTHORITY_HOST: "http://login.example" },
      /ENTRA_AUTHORITY_HOST must be an https URL/,
    ],
    ["allowlist without port", { ...valid, MAIL_ALLOW_PRIVATE: "localhost" }, /host:port/],
    ["first admin email", { ...valid, FIRST_ADMIN_EMAIL: "nope" }, /FIRST_ADMIN_EMAIL/],
  ])("names the variable when %s", (_name, source, pattern) => {
    const found = problems(source);
    expect(
      found.some((p) => pattern.test(p)),
      found.join("\n"),
    ).toBe(true);
  });

  it("treats empty strings as unset", () => {
    expect(parseEnv({ ...valid, PORT: "" }).PORT).toBe(3000);
  });

  it("reads several sealing keys, the first one first", () => {
    const env = parseEnv({ ...valid, SECRETS_KEYS: `new:${KEY}, old:${Buffer.alloc(32, 1).toString("base64")}` });
    expect(env.SECRETS_KEYS.map((k) => k.id)).toEqual(["new", "old"]);
  });
});

describe("ensureLocalSecrets", () => {
  it("creates a 0600 file once and reuses it", () => {
    const dir = tempDir("nm-secrets-");
    const first: Record<string, string | undefined> = {};
    const created = ensureLocalSecrets(dir, first);
    expect(created.created).toBe(true);
    expect(fs.statSync(created.file).mode & 0o777).toBe(0o600);
    expect(() => parseEnv(first)).not.toThrow();

    const second: Record<string, string | undefined> = {};
    expect(ensureLocalSecrets(dir, second).created).toBe(false);
    expect(second).toEqual(first);
  });

  it("never overrides what the environment sets", () => {
    const dir = tempDir("nm-secrets-");
    const env: Record<string, string | undefined> = { ...valid };
    expect(ensureLocalSecrets(dir, env).applied).toEqual([]);
    expect(env).toEqual(valid);
    expect(fs.existsSync(path.join(dir, "local-secrets.env"))).toBe(false);
  });
});
