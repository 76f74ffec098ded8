import "server-only";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Metadata } from "next";
import { renderToString } from "react-dom/server";
import { IslandScope } from "@/app/_components/island";
import PortalLayout from "@/app/(portal)/layout";
import StatusPage, { metadata as statusMetadata } from "@/app/(portal)/status/page";
import MailboxPage, { metadata as mailboxMetadata } from "@/app/(portal)/tenants/[slug]/mailboxes/[mailboxId]/page";
import NotFound from "@/app/not-found";
import { isAuthorizedAction } from "@/lib/action";
import { withSecurityHeaders } from "@/lib/api/http";
import { readBodyUpTo } from "@/lib/json-body";
import { pagePolicy, plainPagePolicy, securityHeaders } from "@/lib/security-headers";
import { FORM_ACTION_NAMES, FORM_ACTIONS } from "./actions";
import { PlainDocument } from "./document";
import { PlainNotFound, PlainRedirect } from "./server/next-navigation";
import { plainRequest } from "./server/request-context";

type PlainPage = {
  pattern: RegExp;
  /** The page's own metadata, for its title. */
  metadata: Metadata;
  /** Whether the page has islands, and so loads the island script (app/_plain/islands.tsx). */
  islands: boolean;
  /** The App Router's page component below the portal's frame, for the address's parts and its query. */
  render(parts: string[], search: URLSearchParams): Promise<React.ReactNode>;
};

/**
 * Pages served as plain HTML by the production server (scripts/serve.mjs): the same server
 * components the App Router renders, without its client runtime, which costs a phone more than the
 * whole page (bench/lighthouse.ts). What is interactive on them is an island (app/_components/
 * island.tsx), hydrated by a small script of its own. The App Router's route for each address stays,
 * for the portal's client-side navigation to it (a request with the RSC header) and the dev server.
 */
const PAGES: PlainPage[] = [
  {
    pattern: /^\/status$/,
    metadata: statusMetadata,
    islands: false,
    render: (_parts, search) => StatusPage({ searchParams: Promise.resolve(Object.fromEntries(search)) }),
  },
  {
    pattern: /^\/tenants\/([^/]+)\/mailboxes\/(\d+)$/,
    metadata: mailboxMetadata,
    islands: true,
    render: ([slug = "", mailboxId = ""], search) =>
      MailboxPage({
        params: Promise.resolve({ slug: decoded(slug), mailboxId: decoded(mailboxId) }),
        searchParams: Promise.resolve(Object.fromEntries(search)),
      }),
  },
];

const FORM_ACTION_PATH = /^\/api\/form-actions\/([A-Za-z]+)$/;
/** The largest form an island may post (the App Router's server actions allow the same). */
const FORM_LIMIT_BYTES = 1024 * 1024;

/**
 * Whether this request is a plain page's or a form action's (cheap: method, path and one header), so
 * the server hands it to routePlainPage. Anything else, including the App Router's own requests to the
 * same addresses (client-side navigation with the RSC header, its server actions), goes to Next.js.
 */
export function isPlainRoute(method: string, pathname: string, rsc: boolean): boolean {
  if (FORM_ACTION_PATH.test(pathname)) return true;
  if ((method !== "GET" && method !== "HEAD") || rsc) return false;
  return PAGES.some((page) => page.pattern.test(pathname));
}

/** The answer for a plain page or form action, or null when isPlainRoute says it is not one. */
export function routePlainPage(request: Request): Promise<Response> | null {
  const url = new URL(request.url);
  if (!isPlainRoute(request.method, url.pathname, request.headers.has("rsc"))) return null;
  const action = FORM_ACTION_PATH.exec(url.pathname);
  if (action) return plainRequest.run(request, () => answerFormAction(request, action[1]!));
  const page = PAGES.find((candidate) => candidate.pattern.test(url.pathname))!;
  const parts = page.pattern.exec(url.pathname)!.slice(1);
  return plainRequest.run(request, () => answerPage(request, url, page, parts));
}

async function answerPage(request: Request, url: URL, page: PlainPage, parts: string[]): Promise<Response> {
  const nonce = randomBytes(16).toString("base64");
  const headers = new Headers({
    ...securityHeaders(page.islands ? pagePolicy(nonce) : plainPagePolicy(nonce)),
    "cache-control": "private, no-cache, no-store, max-age=0, must-revalidate",
    vary: "Cookie, Accept-Encoding",
  });
  const htmlOf = (title: string, body: React.ReactNode, scripts: boolean) =>
    `<!DOCTYPE html>${renderToString(
      <PlainDocument title={title} nonce={nonce} script={scripts ? islandScript() : undefined}>
        <IslandScope.Provider value={{ actionNames: FORM_ACTION_NAMES, inside: false }}>{body}</IslandScope.Provider>
      </PlainDocument>,
    )}`;
  let status = 200;
  let html: string;
  try {
    // The page, inside the (portal) layout, both the App Router's own components.
    const content = await page.render(parts, url.searchParams);
    html = htmlOf(String(page.metadata.title), await PortalLayout({ children: content }), page.islands);
  } catch (error) {
    if (error instanceof PlainRedirect) {
      headers.set("location", error.location);
      return new Response(null, { status: 307, headers });
    }
    if (!(error instanceof PlainNotFound)) throw error;
    // As the App Router's root not-found page: without the portal's frame, which names the admin.
    status = 404;
    html = htmlOf("Not found", <NotFound />, false);
  }
  headers.set("content-type", "text/html; charset=utf-8");
  return htmlAnswer(request, status, html, headers);
}

/**
 * A form action posted by an island: JSON with the action's result, or where its redirect leads.
 * Only the portal's own pages may post (Origin must be the portal), as Next.js checks for its actions.
 */
async function answerFormAction(request: Request, name: string): Promise<Response> {
  const json = (status: number, body: unknown) =>
    withSecurityHeaders(
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      }),
    );
  if (request.method !== "POST") return json(405, { error: "Form actions are posted." });
  if (!fromThePortal(request))
    return json(403, { error: "A form action is accepted from the portal's own pages only." });
  const action = (FORM_ACTIONS as Record<string, unknown>)[name];
  if (typeof action !== "function" || !isAuthorizedAction(action))
    return json(404, { error: "There is no such form action." });
  const type = request.headers.get("content-type") ?? "";
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)\b/.test(type))
    return json(415, { error: "A form action takes a form." });
  const body = await readBodyUpTo(request, FORM_LIMIT_BYTES);
  if (!body) return json(413, { error: "The form is larger than 1 MiB." });
  const form = await new Response(new Uint8Array(body), { headers: { "content-type": type } })
    .formData()
    .catch(() => null);
  if (!form) return json(400, { error: "The form could not be read." });
  try {
    return json(200, { result: await (action as (state: null, form: FormData) => Promise<unknown>)(null, form) });
  } catch (error) {
    if (error instanceof PlainRedirect) return json(200, { redirect: error.location });
    if (error instanceof PlainNotFound)
      return json(404, {
        result: { ok: false, error: "This no longer exists, or you no longer have access to it.", fieldErrors: {} },
      });
    throw error;
  }
}

/**
 * Whether the browser says the post comes from a page of the portal: its Origin names the host the
 * request was sent to (behind a proxy, the forwarded host) or the portal's public address
 * (NEXTAUTH_URL), as Next.js checks for its server actions. The scheme may differ: a proxy in front
 * speaks https to the browser and http to the portal. A browser always sends Origin with a POST, and
 * another site can neither leave it out nor set X-Forwarded-Host.
 */
function fromThePortal(request: Request): boolean {
  let origin: string;
  try {
    origin = new URL(request.headers.get("origin") ?? "").host;
  } catch {
    return false;
  }
  const hosts = [request.headers.get("host"), request.headers.get("x-forwarded-host")?.split(",")[0]?.trim()];
  // Validated at start-up (lib/env.ts).
  if (process.env.NEXTAUTH_URL) hosts.push(new URL(process.env.NEXTAUTH_URL).host);
  return origin !== "" && hosts.includes(origin);
}

function htmlAnswer(request: Request, status: number, html: string, headers: Headers): Response {
  let body = Buffer.from(html);
  if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
    body = gzipSync(body);
    headers.set("content-encoding", "gzip");
  }
  headers.set("content-length", String(body.length));
  return new Response(request.method === "HEAD" ? null : new Uint8Array(body), { status, headers });
}

// The island script is built with the portal (scripts/build-if-needed.ts); the build's ID makes each
// build's script a new address, so a browser never runs an old one against a new page.
let islandSrc: string | undefined;
function islandScript(): string {
  islandSrc ??= `/_next/static/navigator/islands.js?v=${readBuildId()}`;
  return islandSrc;
}

function readBuildId(): string {
  try {
    return fs.readFileSync(path.join(process.cwd(), ".next", "BUILD_ID"), "utf8").trim();
  } catch {
    return "development";
  }
}

/** A path segment as Next.js hands it to a page; a malformed escape names nothing. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "";
  }
}
