import { getMailbox, issueToken, listMailboxes, openApi, runTest } from "./operations";

type Operation = (request: Request, context: { params: Promise<{ id: string }> }) => Promise<Response> | Response;

const ROUTES: { method: string; pattern: RegExp; operation: Operation }[] = [
  { method: "GET", pattern: /^\/api\/v1\/openapi\.json$/, operation: openApi },
  { method: "GET", pattern: /^\/api\/v1\/mailboxes$/, operation: listMailboxes },
  { method: "GET", pattern: /^\/api\/v1\/mailboxes\/([^/]+)$/, operation: getMailbox },
  { method: "POST", pattern: /^\/api\/v1\/mailboxes\/([^/]+)\/token$/, operation: issueToken },
  { method: "POST", pattern: /^\/api\/v1\/mailboxes\/([^/]+)\/tests$/, operation: runTest },
];

/**
 * The production server's direct route to /api/v1: the same operations the Next.js route files
 * export, called without the page machinery (routing, middleware) in between. Null for anything
 * else, which the server hands to Next.js as usual (a 404 or 405 included).
 */
export function routeApiV1(request: Request): Promise<Response> | Response | null {
  const { pathname } = new URL(request.url);
  for (const route of ROUTES) {
    const match = route.pattern.exec(pathname);
    if (!match || route.method !== request.method) continue;
    return route.operation(request, { params: Promise.resolve({ id: decoded(match[1] ?? "") }) });
  }
  return null;
}

/** A path segment as Next.js hands it to a route; a malformed escape names no mailbox. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "";
  }
}
