import { spawn } from "node:child_process";
import { buildIfNeeded, NEXT_BIN, nextChildEnv } from "./build-if-needed";
import { loadLaunchEnv } from "./launch-env";
import { prepareDatabase } from "./prepare";

// npm start: validate configuration, build when the sources changed, migrate, create the first admin, serve.

const dev = process.argv.includes("--dev");
const env = loadLaunchEnv();
process.env.NEXTAUTH_URL ||= `http://localhost:${env.PORT}`;

const childEnv = nextChildEnv();

if (!dev && !buildIfNeeded(childEnv)) {
  console.error("The build failed; see the output above.");
  process.exit(1);
}
await prepareDatabase();

const server = spawn(process.execPath, [NEXT_BIN, dev ? "dev" : "start", "-p", String(env.PORT)], {
  stdio: "inherit",
  env: childEnv,
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
