import "server-only";
import { z } from "zod";

// The only module that reads process.env: everything else asks for getEnv().

const SECRET_HINT = "generate one with: openssl rand -base64 32";

const secretsKeys = z
  .string({ error: `SECRETS_KEYS is not set; use kid:base64key[,kid2:base64key] (${SECRET_HINT})` })
  .transform((value, ctx) => {
    const keys = value
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const parsed: { id: string; key: Buffer }[] = [];
    for (const entry of keys) {
      const [id, b64] = entry.split(":");
      const key = b64 ? Buffer.from(b64, "base64") : Buffer.alloc(0);
      if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
        ctx.addIssue({
          code: "custom",
          message: `SECRETS_KEYS entry "${id ?? ""}" must be kid:base64key with a 32-byte key (${SECRET_HINT})`,
        });
        return z.NEVER;
      }
      parsed.push({ id, key });
    }
    if (parsed.length === 0) {
      ctx.addIssue({ code: "custom", message: `SECRETS_KEYS is empty; use kid:base64key (${SECRET_HINT})` });
      return z.NEVER;
    }
    return parsed;
  });

const hostPortList = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-f:.]+\]:\d{1,5}$/, "MAIL_ALLOW_PRIVATE entries are host:port"),
    ),
  );

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .default("file:./data/navigator-mail.db")
    .refine((v) => v === ":memory:" || v.startsWith("file:"), "DATABASE_URL must be file:<path> or :memory:"),
  AUTH_SECRET: z
    .string({ error: `AUTH_SECRET is not set (${SECRET_HINT})` })
    .refine((v) => Buffer.byteLength(v) >= 32, `AUTH_SECRET must be at least 32 bytes (${SECRET_HINT})`),
  SECRETS_KEYS: secretsKeys,
  ENTRA_AUTHORITY_HOST: z.url({ protocol: /^https$/, error: "ENTRA_AUTHORITY_HOST must be an https URL" }).optional(),
  MAIL_ALLOW_PRIVATE: hostPortList,
  FIRST_ADMIN_EMAIL: z.email("FIRST_ADMIN_EMAIL must be an email address").optional(),
  FIRST_ADMIN_PASSWORD: z.string().min(12, "FIRST_ADMIN_PASSWORD must be at least 12 characters").optional(),
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`),
    );
  }
  return result.data;
}

let cached: Env | undefined;

export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** The SQLite file path, or ":memory:". */
export function databasePath(env: Pick<Env, "DATABASE_URL"> = getEnv()): string {
  return env.DATABASE_URL === ":memory:" ? ":memory:" : env.DATABASE_URL.slice("file:".length);
}
