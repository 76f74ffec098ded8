import { fork, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { createRigTls } from "../tests/support/rig/tls";

/**
 * Runs a benchmark against the test rig. Node reads NODE_EXTRA_CA_CERTS only at start-up, so the first
 * process makes the test CA and runs the script again with it; the second gets fresh secrets and a
 * temporary database before any module reads the environment.
 */
export async function withRig(bench: () => Promise<void>): Promise<void> {
  if (!process.env.NAVIGATOR_RIG_TLS_DIR) {
    const tls = createRigTls();
    const child = spawn(process.execPath, process.execArgv.concat(process.argv.slice(1)), {
      stdio: "inherit",
      env: { ...process.env, NAVIGATOR_RIG_TLS_DIR: tls.dir, NAVIGATOR_RIG_IP: tls.ip, NODE_EXTRA_CA_CERTS: tls.caPem },
    });
    child.on("exit", (code) => process.exit(code ?? 1));
    return;
  }
  Object.assign(process.env, {
    AUTH_SECRET: randomBytes(32).toString("base64"),
    SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}`,
    DATABASE_URL: `file:${path.join(os.tmpdir(), `navigator-bench-${randomUUID()}.db`)}`,
  });
  await bench();
}

/** The bench's database with one tenant, and a function that saves a mailbox form in it as a super-admin. */
export async function benchTenant() {
  const { getDb, migrateDatabase } = await import("@/db/client");
  const { createTenant } = await import("@/lib/tenants/queries");
  const { createMailbox } = await import("@/lib/mailbox/save");
  const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
  const db = getDb();
  migrateDatabase(db);
  const root = {
    kind: "user" as const,
    id: 0,
    email: "bench@navigator.test",
    name: "Bench",
    role: "super_admin" as const,
    tenantId: null,
    mustChangePassword: false,
  };
  const tenant = await createTenant(db, root, { name: "Bench", slug: "bench" });
  const save = (form: Record<string, string>) =>
    createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
  return { db, tenant, save, root };
}

export type RigMailbox = {
  user: { upn: string; password: string };
  settings: import("@/lib/engine/settings").CheckSettings;
  form: Record<string, string>;
};
export type RigInProcess = { authorityHost: string; allowlist: string[]; ip: string; mailboxes: RigMailbox[] };

/** The rig in a child process (bench/rig-child.ts) with `users` users ready; call stop() at the end. */
export async function startRigProcess(users: number): Promise<RigInProcess & { stop(): Promise<void> }> {
  const child = fork(path.join(import.meta.dirname, "rig-child.ts"), [String(users)], {
    execArgv: process.execArgv,
    stdio: "inherit",
  });
  const info = await new Promise<RigInProcess>((resolve, reject) => {
    child.once("message", (message) => resolve(message as RigInProcess));
    child.once("exit", (code) => reject(new Error(`the rig process ended (${code})`)));
  });
  return {
    ...info,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.disconnect();
      }),
  };
}
