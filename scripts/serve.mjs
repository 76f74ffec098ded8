// The portal's HTTP server: Next.js behind a plain Node server that says, in one header the client
// cannot forge, which address a request came from. Started by scripts/start.ts with a checked environment.
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { Readable } from "node:stream";
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

// Production answers /api/v1 with the same operations as its Next.js route files, without the page
// machinery in between: a business system may ask for tokens hundreds of times a second. Pages that
// need no JavaScript (app/_plain) are answered the same way, as plain HTML.
const bundle = path.join(process.cwd(), ".next", "navigator-direct.cjs");
const direct = !dev && fs.existsSync(bundle) ? createRequire(import.meta.url)(bundle) : null;

const server = http.createServer((request, response) => {
  request.headers[CLIENT_HEADER] = clientAddress(request);
  const route = directRoute(request);
  if (route) {
    answerDirectly(route, request, response).catch((error) => {
      console.error("direct request failed:", error?.name ?? "Error");
      const type = route === direct.routeApiV1 ? "application/problem+json" : "text/plain; charset=utf-8";
      if (!response.headersSent) response.writeHead(500, { "content-type": type });
      response.end();
    });
    return;
  }
  handle(request, response);
});

/** The direct route for a request, or null for Next.js: /api/v1, and a plain page opened by a browser. */
function directRoute(request) {
  if (!direct || !request.url) return null;
  if (request.url.startsWith("/api/v1/")) return direct.routeApiV1;
  // A plain page (app/_plain) or one of its form actions; the router itself leaves the App Router's
  // client-side navigation (the RSC header) to Next.js.
  const pathname = request.url.split("?")[0];
  return direct.isPlainRoute(request.method, pathname, "rsc" in request.headers) ? direct.routePlainPage : null;
}

/** One request through a direct route (app/_plain/direct-routes.ts); anything it does not know goes to Next.js. */
async function answerDirectly(route, request, response) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const method = request.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const webRequest = new Request(`http://${request.headers.host ?? "localhost"}${request.url}`, {
    method,
    headers,
    body: hasBody ? Readable.toWeb(request) : undefined,
    duplex: "half",
  });
  const answer = await route(webRequest);
  if (!answer) return handle(request, response);
  const answerHeaders = Object.fromEntries(answer.headers);
  // A body refused before it was read to the end (too large, not JSON) leaves the rest of it in the
  // connection: close it after this answer, so the client's next request does not land in it.
  if (!request.complete) answerHeaders.connection = "close";
  response.writeHead(answer.status, answerHeaders);
  if (!answer.body) return void response.end();
  for await (const chunk of answer.body) response.write(chunk);
  response.end();
}
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
