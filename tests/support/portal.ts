import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { freePort } from "./ports";
import { tempDir } from "./temp";
import { newDatabaseUrl, suiteOnPostgres } from "./test-database";

export type Portal = {
  url: string;
  dataDir: string;
  /** The portal's DATABASE_URL: an SQLite file in dataDir, or a database of the suite's PostgreSQL cluster. */
  databaseUrl: string;
  admin: { email: string; password: string };
  /** The process group of the portal (npm start and the server it runs). */
  pid: number;
  output: () => string;
  stop: () => Promise<void>;
  /** The process dies at once (SIGKILL), as when its machine is lost: nothing is finished or closed. */
  kill: () => Promise<void>;
};

/**
 * Starts the built portal the way an operator does (npm start), on a free port with an empty data directory.
 * The first admin gets a password chosen through FIRST_ADMIN_PASSWORD, or with `generatedAdmin` the one the
 * portal generates and prints (which must be changed at the first sign-in). With `dev`, the way a
 * developer does (npm run dev): the same server in development mode, compiling on demand. With
 * `databaseUrl` (and `port`), another instance of a portal already started, on its database.
 */
export async function startPortal(
  env: Record<string, string> = {},
  options: {
    generatedAdmin?: boolean;
    dev?: boolean;
    databaseUrl?: string;
    port?: number;
    admin?: { email: string; password: string };
  } = {},
): Promise<Portal> {
  const dataDir = tempDir("navigator-portal-");
  const port = options.port ?? (await freePort());
  const chosenPassword = options.generatedAdmin ? undefined : `first-admin-${randomBytes(9).toString("base64url")}`;
  const { NODE_ENV: _mode, AUTH_SECRET: _a, SECRETS_KEYS: _s, DATABASE_URL: _d, ...inherited } = process.env;
  const databaseUrl =
    options.databaseUrl ??
    (suiteOnPostgres() ? await newDatabaseUrl() : `file:${path.join(dataDir, "navigator-mail.db")}`);
  const child = spawn(
    process.execPath,
    [
      path.resolve("node_modules/tsx/dist/cli.mjs"),
      "--conditions=react-server",
      "scripts/start.ts",
      ...(options.dev ? ["--dev"] : []),
    ],
    {
      env: {
        ...inherited,
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        // A local install keeps its generated secrets beside its SQLite file; on PostgreSQL there is no
        // such folder, so the portal is given its secrets as an operator gives them.
        ...(suiteOnPostgres()
          ? {
              AUTH_SECRET: randomBytes(32).toString("base64"),
              SECRETS_KEYS: `k1:${randomBytes(32).toString("base64")}`,
            }
          : {}),
        // The address the tests use, as an operator sets it for the address users reach.
        NEXTAUTH_URL: `http://127.0.0.1:${port}`,
        // A test that wants the scheduler says so; the others must not see scheduled tests appear.
        MONITOR: "off",
        ...(chosenPassword ? { FIRST_ADMIN_PASSWORD: chosenPassword } : {}),
        ...env,
      } as unknown as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  await waitFor(
    () => /Ready in/.test(output),
    child,
    () => output,
    120_000,
  );
  // Another instance on a database that has its first admin already prints none: it is the caller's.
  const email = options.admin?.email ?? output.match(/email:\s+(\S+)/)?.[1];
  const password = options.admin?.password ?? chosenPassword ?? output.match(/password:\s+(\S+)/)?.[1];
  if (!email || !password) throw new Error(`no first admin in the start-up output:\n${output}`);
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    databaseUrl,
    admin: { email, password },
    pid: child.pid!,
    output: () => output,
    stop: () => stopProcess(child),
    kill: () => killProcess(child, port),
  };
}

async function waitFor(
  done: () => boolean,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (child.exitCode !== null) throw new Error(`the portal exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`the portal did not start within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    process.kill(-child.pid!, "SIGTERM");
    setTimeout(() => child.exitCode === null && process.kill(-child.pid!, "SIGKILL"), 5000).unref();
  });
}

/** Kills the whole process group and returns once the server's port refuses connections. */
async function killProcess(child: ChildProcess, port: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      process.kill(-child.pid!, "SIGKILL");
    });
  }
  // The launcher exits first; the server it started may still hold its socket for a moment.
  const refused = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
  for (let i = 0; i < 100 && !(await refused()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Signs in through next-auth's credentials endpoint, as the sign-in page does; returns the Cookie header. */
export async function signInOverHttp(url: string, email: string, password: string): Promise<string> {
  const csrf = await fetch(`${url}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const jar = new Map<string, string>();
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, ...value] = pair!.split("=");
      jar.set(name!, value.join("="));
    }
  };
  keep(csrf);
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const response = await fetch(`${url}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
    body: new URLSearchParams({ csrfToken, email, password, json: "true" }),
  });
  keep(response);
  if (![...jar.keys()].some((name) => name.endsWith("next-auth.session-token")))
    throw new Error(`sign-in failed: HTTP ${response.status}`);
  return cookie();
}
