import { AsyncLocalStorage } from "node:async_hooks";

/** The request a plain page or form action is answering, for the stand-ins of next/headers. */
export const plainRequest = new AsyncLocalStorage<Request>();

export function currentPlainRequest(): Request {
  const request = plainRequest.getStore();
  if (!request) throw new Error("next/headers was called outside a plain page's request");
  return request;
}

/** A request's cookies by name, percent-decoded as Next.js's cookie store gives them. */
export function requestCookies(request: Request): Map<string, string> {
  const jar = new Map<string, string>();
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const raw = pair.slice(at + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {}
    jar.set(pair.slice(0, at).trim(), value);
  }
  return jar;
}
