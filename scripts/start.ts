import { spawn } from "node:child_process";
import path from "node:path";
import { buildIfNeeded, nextChildEnv } from "./build-if-needed";
import { loadLaunchEnv } from "./launch-env";
import { prepareDatabase } from "./prepare";

// npm start: validate configuration, build when the sources changed, migrate, create the first admin, serve.

const dev = process.argv.includes("--dev");
const env = loadLaunchEnv();
process.env.NEXTAUTH_URL ||= `http://localhost:${env.PORT}`;
if (
  process.env.NODE_ENV === "production" &&
  env.ALLOW_INSECURE_HTTP &&
  !process.env.NEXTAUTH_URL.startsWith("https://")
) {
  console.warn(
    "Warning: ALLOW_INSECURE_HTTP=true: the portal is served over plain http; passwords and sessions travel unencrypted.",
  );
}

const childEnv = nextChildEnv();

if (!dev && !buildIfNeeded(childEnv)) {
  console.error("The build failed; see the output above.");
  process.exit(1);
}
await prepareDatabase();

const serve = path.join(process.cwd(), "scripts", "serve.mjs");
const server = spawn(process.execPath, [serve, ...(dev ? ["--dev"] : [])], {
  stdio: "inherit",
  env: {
    ...childEnv,
    NODE_ENV: dev ? "development" : "production",
    PORT: String(env.PORT),
    TRUST_PROXY: String(env.TRUST_PROXY),
  },
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
