// The portal's custom server (https://nextjs.org/docs/app/guides/custom-server): Next.js itself, with
// one thing it cannot do on its own. Every request carries, in a header the client cannot forge, the
// address it came from: the connection's own, or under TRUST_PROXY=true the last X-Forwarded-For entry
// (the one the reverse proxy in front appended). Sign-in and API limits count that address
// (lib/auth/client-address.ts). Started by scripts/start.ts with a checked environment.
import http from "node:http";
import next from "next";

const CLIENT_HEADER = "x-navigator-client";
const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT);
const trustProxy = process.env.TRUST_PROXY === "true";

const started = performance.now();
const app = next({ dev, dir: process.cwd(), port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((request, response) => {
  request.headers[CLIENT_HEADER] = clientAddress(request);
  void handle(request, response);
});
// The development server's live reload runs over a WebSocket.
if (dev) server.on("upgrade", app.getUpgradeHandler());
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
