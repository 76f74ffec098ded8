import type { z } from "zod";
import { REFUSAL_ANSWERS, retryAfterHeaders } from "@/app/_lib/refusal-response";
import { type Db, getDb } from "@/db/client";
import type { ApiScope } from "@/db/schema";
import { authenticateApiKey, hasScope, type KeyRefusal } from "@/lib/api-keys/keys";
import type { ApiKeyActor } from "@/lib/auth/actor";
import { clientAddressOf } from "@/lib/auth/client-address";
import { describeError, NotFoundError } from "@/lib/errors";
import { readJsonBody } from "@/lib/json-body";
import { API_POLICY, securityHeaders } from "@/lib/security-headers";
import type { Refusal } from "@/lib/service/refusals";

const PROBLEM_BASE = "https://navigator-mail.invalid/problems";

type ProblemExtras = { code?: string; errors?: Record<string, string[]>; headers?: Record<string, string> };

/** RFC 9457 problem details: every error of /api/v1 has this shape. */
export function problem(status: number, type: string, title: string, detail: string, extras: ProblemExtras = {}) {
  const { headers, ...rest } = extras;
  return new Response(JSON.stringify({ type: `${PROBLEM_BASE}/${type}`, title, status, detail, ...rest }), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...headers },
  });
}

const KEY_PROBLEMS: Record<KeyRefusal, string> = {
  missing: "Send the API key as Authorization: Bearer nvm_…",
  malformed: "The Authorization header does not hold an API key (Bearer nvm_…).",
  unknown: "This API key is not known.",
  revoked: "This API key was revoked.",
  expired: "This API key has expired.",
};

/** A service's refusal as a problem, with Retry-After where waiting helps. */
export function refusalProblem(refusal: Refusal): Response {
  const errors = refusal.kind === "invalid" ? (refusal.fieldErrors as Record<string, string[]>) : undefined;
  const { status, title } = REFUSAL_ANSWERS[refusal.kind];
  return problem(status, refusal.kind, title, refusal.message, {
    headers: retryAfterHeaders(refusal),
    ...(errors && Object.keys(errors).length > 0 ? { errors } : {}),
  });
}

/** The request's zod issues, per field, as a 400 problem that names each field. */
export function invalidRequest(error: z.ZodError, what: string): Response {
  const errors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const fields =
      issue.code === "unrecognized_keys" ? issue.keys : [issue.path.length > 0 ? issue.path.join(".") : "(body)"];
    for (const field of fields) {
      const message = issue.code === "unrecognized_keys" ? "Unknown field." : issue.message;
      errors[field] = [...(errors[field] ?? []), message];
    }
  }
  const named = Object.keys(errors).join(", ");
  return problem(400, "invalid-request", "Invalid request", `The ${what} is not valid: ${named}.`, { errors });
}

/** The JSON body of a POST; no body at all (and no Content-Type) counts as {}. */
export async function jsonBody(
  request: Request,
  limit?: number,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const refuse = (status: 400 | 413 | 415, message: string) =>
    problem(
      status,
      { 400: "invalid-json", 413: "too-large", 415: "unsupported-media-type" }[status],
      "Bad body",
      message,
    );
  if (!request.headers.get("content-type")) {
    // Only an empty body may come without a type: one read tells, without taking in more.
    const reader = request.body?.getReader();
    let empty = true;
    for (let next = await reader?.read(); next && !next.done; next = await reader?.read()) {
      if (next.value.byteLength > 0) {
        empty = false;
        break;
      }
    }
    await reader?.cancel();
    if (empty) return { ok: true, value: {} };
    return { ok: false, response: refuse(415, "Send JSON (Content-Type: application/json).") };
  }
  return readJsonBody(request, refuse, limit);
}

type Handler<P> = (scope: { db: Db; actor: ApiKeyActor; request: Request; params: P }) => Promise<Response> | Response;

/**
 * One API operation: the caller is an API key (never a session cookie), holding the scope the operation
 * needs. Another tenant's or an unknown mailbox is 404; anything unexpected is a 500 without details.
 */
export function apiOperation<P>(scope: ApiScope, handle: Handler<P>) {
  return async (request: Request, context: { params: Promise<P> }): Promise<Response> =>
    withSecurityHeaders(await answer(request, context));
  async function answer(request: Request, context: { params: Promise<P> }): Promise<Response> {
    try {
      const db = getDb();
      const auth = await authenticateApiKey(db, request.headers.get("authorization"), clientAddressOf(request.headers));
      if (!auth.ok) {
        return problem(401, "unauthorized", "Unauthorized", KEY_PROBLEMS[auth.refusal], {
          headers: { "www-authenticate": 'Bearer realm="navigator-mail"' },
        });
      }
      if (!hasScope(auth.actor, scope)) {
        return problem(403, "forbidden", "Forbidden", `This API key does not have the scope ${scope}.`);
      }
      return await handle({ db, actor: auth.actor, request, params: await context.params });
    } catch (error) {
      if (error instanceof NotFoundError)
        return problem(404, "not-found", "Not found", "No such mailbox for this key.");
      console.error("api request failed:", describeError(error));
      return problem(500, "internal", "Internal error", "Something went wrong on the server.");
    }
  }
}

/** What proxy.ts sets on every other answer: API answers load nothing, use no browser feature, and HSTS over https. */
export function withSecurityHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(securityHeaders(API_POLICY))) response.headers.set(name, value);
  return response;
}

/** A mailbox id from the path: a positive whole number, or the mailbox does not exist. */
export function mailboxIdOf(params: { id: string }): number {
  const id = /^[1-9]\d{0,9}$/.test(params.id) ? Number(params.id) : Number.NaN;
  if (!Number.isSafeInteger(id) || id > 2 ** 31) throw new NotFoundError();
  return id;
}
