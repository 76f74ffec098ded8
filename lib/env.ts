import "server-only";
import { Cron } from "croner";
import { z } from "zod";
import { isPostgresUrl } from "@/db/url";

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

const limit = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be at least 1`)
    .default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .default("file:./data/navigator-mail.db")
    .refine(
      (v) => v === ":memory:" || v.startsWith("file:") || isPostgresUrl(v),
      "DATABASE_URL must be file:<path>, :memory: or postgres://user:password@host:port/database",
    )
    .refine(
      (v) => !isPostgresUrl(v) || URL.canParse(v),
      // The URL itself is never repeated: it may hold the password.
      "DATABASE_URL is not a valid postgres:// URL (check the characters of the password are percent-encoded)",
    ),
  /** Connections each instance keeps to PostgreSQL. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  AUTH_SECRET: z
    .string({ error: `AUTH_SECRET is not set (${SECRET_HINT})` })
    .refine((v) => Buffer.byteLength(v) >= 32, `AUTH_SECRET must be at least 32 bytes (${SECRET_HINT})`),
  SECRETS_KEYS: secretsKeys,
  ENTRA_AUTHORITY_HOST: z.url({ protocol: /^https$/, error: "ENTRA_AUTHORITY_HOST must be an https URL" }).optional(),
  // The one-click Entra setup: the public client the admin signs in to (default: Microsoft Graph
  // PowerShell's), and, for tests only, another Graph host than the cloud's.
  ENTRA_SETUP_CLIENT_ID: z
    .string()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      "ENTRA_SETUP_CLIENT_ID must be an application (client) ID",
    )
    .default("14d82eec-204b-4c2f-b7e8-296a70dab67e"),
  ENTRA_GRAPH_HOST: z.url({ protocol: /^https$/, error: "ENTRA_GRAPH_HOST must be an https URL" }).optional(),
  MAIL_ALLOW_PRIVATE: hostPortList,
  TRUST_PROXY: z
    .enum(["true", "false"], { error: "TRUST_PROXY must be true or false" })
    .default("false")
    .transform((v) => v === "true"),
  MAX_TESTS_PER_TENANT: limit("MAX_TESTS_PER_TENANT", 4),
  MAX_TESTS: limit("MAX_TESTS", 16),
  MAX_MAILBOXES_PER_TENANT: limit("MAX_MAILBOXES_PER_TENANT", 1000),
  MAX_ADMINS_PER_TENANT: limit("MAX_ADMINS_PER_TENANT", 50),
  NEXTAUTH_URL: z
    .url({ protocol: /^https?$/, error: "NEXTAUTH_URL must be an http:// or https:// address" })
    .optional(),
  ALLOW_INSECURE_HTTP: z
    .enum(["true", "false"], { error: "ALLOW_INSECURE_HTTP must be true or false" })
    .default("false")
    .transform((v) => v === "true"),
  // Monitoring: every MONITOR_SCHEDULE (a cron pattern, seconds optional) the scheduler starts the
  // tests that are due, at most MONITOR_CONCURRENCY at once.
  MONITOR: z.enum(["on", "off"], { error: "MONITOR must be on or off" }).default("on"),
  MONITOR_SCHEDULE: z
    .string()
    .default("* * * * *")
    .refine((pattern) => {
      try {
        new Cron(pattern, { paused: true }).stop();
        return true;
      } catch {
        return false;
      }
    }, "MONITOR_SCHEDULE must be a cron pattern such as */5 * * * * (every five minutes)"),
  MONITOR_CONCURRENCY: limit("MONITOR_CONCURRENCY", 4),
  // A Microsoft sign-in mailbox nobody has signed in yet raises one reminder after this many hours.
  AWAITING_SIGN_IN_ALERT_HOURS: limit("AWAITING_SIGN_IN_ALERT_HOURS", 24),
  // The mailbox (by id) that sends alert email for tenants that choose "the portal's alert sender".
  ALERT_SENDER_MAILBOX: z.coerce
    .number({ error: "ALERT_SENDER_MAILBOX must be a mailbox id (a whole number)" })
    .int("ALERT_SENDER_MAILBOX must be a mailbox id (a whole number)")
    .positive("ALERT_SENDER_MAILBOX must be a mailbox id (a whole number)")
    .optional(),
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

/** The SQLite file path, or ":memory:" (not for a PostgreSQL URL). */
export function databasePath(env: Pick<Env, "DATABASE_URL"> = getEnv()): string {
  return env.DATABASE_URL === ":memory:" ? ":memory:" : env.DATABASE_URL.slice("file:".length);
}

/**
 * Session cookies and passwords cross the network: an operator running in production serves https
 * unless they opt out. Checked by the launcher, whose NODE_ENV is the operator's (the server's is always
 * production).
 */
export function insecureUrlProblem(env: Pick<Env, "NODE_ENV" | "NEXTAUTH_URL" | "ALLOW_INSECURE_HTTP">): string | null {
  if (env.NODE_ENV !== "production" || env.ALLOW_INSECURE_HTTP || env.NEXTAUTH_URL?.startsWith("https://")) return null;
  return (
    "NEXTAUTH_URL: in production NEXTAUTH_URL must be the https:// address users reach the portal at " +
    "(set ALLOW_INSECURE_HTTP=true to serve plain http anyway; passwords and sessions then travel unencrypted)"
  );
}
