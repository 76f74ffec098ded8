// The portal's HTTP server: Next.js behind a plain Node server that says, in one header the client
// cannot forge, which address a request came from. Started by scripts/start.ts with a checked environment.
import http from "node:http";
import next from "next";

const CLIENT_HEADER = "x-navigator-client";
const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT);
// TRUST_PROXY=true: a reverse proxy in front appends the real client to X-Forwarded-For.
const trustProxy = process.env.TRUST_PROXY === "true";

const started = performance.now();
const app = next({ dev, dir: process.cwd(), port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((request, response) => {
  request.headers[CLIENT_HEADER] = clientAddress(request);
  handle(request, response);
});
server.listen(port, () => {
  console.log(`Navigator Mail listening on port ${port} (${dev ? "development" : "production"})`);
  console.log(`Ready in ${Math.round(performance.now() - started)}ms`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));

function clientAddress(request) {
  if (trustProxy) {
    const forwarded = String(request.headers["x-forwarded-for"] ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
    if (forwarded.length > 0) return forwarded.at(-1);
  }
  return request.socket.remoteAddress ?? "";
}
