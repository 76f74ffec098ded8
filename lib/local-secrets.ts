import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

// For a local (non-production) install only: the launcher fills in what the operator did not set.
const GENERATED = ["AUTH_SECRET", "SECRETS_KEYS"] as const;

export type LocalSecrets = { file: string; created: boolean; applied: string[] };

export function ensureLocalSecrets(dataDir: string, env: Record<string, string | undefined>): LocalSecrets {
  const file = path.join(dataDir, "local-secrets.env");
  const missing = GENERATED.filter((name) => !env[name]);
  if (missing.length === 0) return { file, created: false, applied: [] };
  let stored = readSecretsFile(file);
  const created = !stored;
  if (!stored) {
    stored = {
      AUTH_SECRET: randomBytes(32).toString("base64"),
      SECRETS_KEYS: `k${new Date().toISOString().slice(0, 10).replaceAll("-", "")}:${randomBytes(32).toString("base64")}`,
    };
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const body = `${Object.entries(stored)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`;
    fs.writeFileSync(file, body, { mode: 0o600, flag: "wx" });
  }
  for (const name of missing) env[name] = stored[name];
  return { file, created, applied: [...missing] };
}

function readSecretsFile(file: string): Record<string, string> | null {
  if (!fs.existsSync(file)) return null;
  const entries = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.match(/^([A-Z_]+)=(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
  return Object.fromEntries(entries);
}
