import "server-only";
import { performance } from "node:perf_hooks";
import { getEnv } from "@/lib/env";
import { getMailboxFor, getTenantSlug } from "@/lib/mailbox/queries";
import { ndjsonResponse } from "@/lib/ndjson";
import { listMailboxesForKey, mailboxForKey } from "@/lib/service/api-mailboxes";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { issueMailboxToken } from "@/lib/service/mailbox-tokens";
import {
  apiOperation,
  invalidRequest,
  jsonBody,
  mailboxIdOf,
  problem,
  refusalProblem,
  withSecurityHeaders,
} from "./http";
import { openApiDocument } from "./openapi";
import { listQuerySchema, testRequestSchema, tokenRequestSchema } from "./schemas";

// The operations of /api/v1. The Next.js route files export them, and the production server
// (scripts/serve.mjs) calls them through lib/api/router.ts without the page machinery in between.

/** GET /mailboxes: a page of the mailboxes the key may see. */
export const listMailboxes = apiOperation("mailboxes:read", ({ db, actor, request }) => {
  const query = listQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return invalidRequest(query.error, "query");
  return Response.json(listMailboxesForKey(db, actor, query.data), { headers: { "cache-control": "no-store" } });
});

/** GET /mailboxes/{id}: the settings without secrets. */
export const getMailbox = apiOperation<{ id: string }>("mailboxes:read", ({ db, actor, params }) =>
  Response.json(mailboxForKey(db, actor, mailboxIdOf(params)), { headers: { "cache-control": "no-store" } }),
);

/** POST /mailboxes/{id}/token: a fresh access token; Server-Timing says how long the server took. */
export const issueToken = apiOperation<{ id: string }>("tokens:issue", async ({ db, actor, request, params }) => {
  const started = performance.now();
  const mailboxId = mailboxIdOf(params);
  const body = await jsonBody(request);
  if (!body.ok) return body.response;
  const input = tokenRequestSchema.safeParse(body.value);
  if (!input.success) return invalidRequest(input.error, "body");
  const answer = await issueMailboxToken(db, actor, { tenantId: actor.tenantId, mailboxId }, input.data.purpose);
  if (!answer.ok && "refusal" in answer) return refusalProblem(answer.refusal);
  if (!answer.ok) {
    const { diagnosis } = answer;
    return problem(502, "token-refused", "Microsoft refused the token request", `${diagnosis.cause} ${diagnosis.fix}`, {
      code: diagnosis.code,
    });
  }
  return Response.json(answer.token, {
    headers: {
      "cache-control": "no-store",
      pragma: "no-cache",
      "server-timing": `app;dur=${(performance.now() - started).toFixed(2)}`,
    },
  });
});

/** POST /mailboxes/{id}/tests: the button's test; JSON when done, or NDJSON lines as it goes. */
export const runTest = apiOperation<{ id: string }>("tests:run", async ({ db, actor, request, params }) => {
  const mailboxId = mailboxIdOf(params);
  const body = await jsonBody(request);
  if (!body.ok) return body.response;
  const input = testRequestSchema.safeParse(body.value);
  if (!input.success) return invalidRequest(input.error, "body");
  const mailbox = getMailboxFor(db, actor, actor.tenantId, mailboxId);
  const started = startMailboxTest(db, actor, { tenantId: actor.tenantId, mailboxId, source: "saved" });
  if (!started.ok) return refusalProblem(started.refusal);
  if ((request.headers.get("accept") ?? "").includes("application/x-ndjson")) {
    return ndjsonResponse(started.events);
  }
  const tenant = getTenantSlug(db, mailbox.tenantId);
  const result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant });
  return Response.json(result, { headers: { "cache-control": "no-store" } });
});

/** GET /openapi.json: the description of all of the above; public, like any API reference. */
export function openApi(request: Request): Response {
  const origin = getEnv().NEXTAUTH_URL?.replace(/\/+$/, "") ?? new URL(request.url).origin;
  return withSecurityHeaders(
    Response.json(openApiDocument(origin), { headers: { "cache-control": "public, max-age=300" } }),
  );
}
