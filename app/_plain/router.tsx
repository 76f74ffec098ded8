import "server-only";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { renderToString } from "react-dom/server";
import { PortalChrome } from "@/app/(portal)/portal-chrome";
import { StatusView, statusQuery } from "@/app/(portal)/status/status-view";
import { getDb } from "@/db/client";
import { resolveActor, type UserActor } from "@/lib/auth/actor";
import { authCsrfTokenFrom, type CookieLookup, pageDetour, sessionClaimsFrom } from "@/lib/auth/session-cookies";
import { getEnv } from "@/lib/env";
import {
  FRAME_AND_SNIFF_HEADERS,
  PERMISSIONS_POLICY,
  plainPagePolicy,
  strictTransportSecurity,
} from "@/lib/security-headers";
import { statusPage } from "@/lib/service/status";
import { PlainDocument } from "./document";

type PlainPage = {
  title: string;
  /** The page below the portal's frame, for this signed-in admin and address. */
  render(actor: UserActor, search: URLSearchParams): React.ReactNode;
};

/**
 * Pages that need no JavaScript, served as plain HTML by the production server (scripts/serve.mjs):
 * the same server components the App Router renders, without its client runtime, which costs a phone
 * more than the whole page (see bench/lighthouse.ts). The App Router's own route for each stays, for
 * the portal's client-side navigation to it (a request with the RSC header) and the dev server.
 */
const PAGES: Record<string, PlainPage> = {
  "/status": {
    title: "Status",
    render(actor, search) {
      const query = statusQuery(Object.fromEntries(search));
      const now = Date.now();
      return <StatusView status={statusPage(getDb(), actor, query, now)} query={query} now={now} />;
    },
  },
};

/** The addresses of the plain pages, for the server to pick their requests cheaply. */
export const PLAIN_PAGE_PATHS: ReadonlySet<string> = new Set(Object.keys(PAGES));

/** The answer for a plain page, or null for anything else (Next.js answers it as usual). */
export function routePlainPage(request: Request): Promise<Response> | null {
  const url = new URL(request.url);
  const page = PAGES[url.pathname];
  if (!page || (request.method !== "GET" && request.method !== "HEAD") || request.headers.has("rsc")) return null;
  return answer(request, url, page);
}

async function answer(request: Request, url: URL, page: PlainPage): Promise<Response> {
  const cookie = cookieLookup(request.headers.get("cookie"));
  const claims = await sessionClaimsFrom(cookie, getEnv().AUTH_SECRET);
  const actor = claims ? resolveActor(getDb(), claims) : null;
  const headers = new Headers({
    ...FRAME_AND_SNIFF_HEADERS,
    "permissions-policy": PERMISSIONS_POLICY,
    "cache-control": "private, no-cache, no-store, max-age=0, must-revalidate",
    vary: "Cookie, Accept-Encoding",
  });
  const hsts = strictTransportSecurity(process.env.NEXTAUTH_URL);
  if (hsts) headers.set("strict-transport-security", hsts);
  const detour = pageDetour(actor);
  if (detour || !actor) {
    headers.set("location", detour ?? "/signin");
    return new Response(null, { status: 307, headers });
  }
  const nonce = randomBytes(16).toString("base64");
  headers.set("content-security-policy", plainPagePolicy(nonce));
  headers.set("content-type", "text/html; charset=utf-8");
  const html = `<!DOCTYPE html>${renderToString(
    <PlainDocument title={page.title} nonce={nonce}>
      <PortalChrome actor={actor} csrfToken={authCsrfTokenFrom(cookie)}>
        {page.render(actor, url.searchParams)}
      </PortalChrome>
    </PlainDocument>,
  )}`;
  let body = Buffer.from(html);
  if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
    body = gzipSync(body);
    headers.set("content-encoding", "gzip");
  }
  headers.set("content-length", String(body.length));
  return new Response(request.method === "HEAD" ? null : new Uint8Array(body), { status: 200, headers });
}

function cookieLookup(header: string | null): CookieLookup {
  const jar = new Map<string, string>();
  for (const pair of (header ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  // Values arrive percent-encoded (next-auth's CSRF cookie is "token%7Chash"), as Next.js's store decodes them.
  return (name) => {
    const value = jar.get(name);
    if (value === undefined) return undefined;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
}
