import { performance } from "node:perf_hooks";
import { tokenRequestSchema } from "@/lib/api/schemas";
import { issueMailboxToken } from "@/lib/service/mailbox-tokens";
import { apiOperation, invalidRequest, jsonBody, mailboxIdOf, problem, refusalProblem } from "../../../_lib/http";

/** POST /api/v1/mailboxes/{id}/token: a fresh access token; Server-Timing says how long the server took. */
export const POST = apiOperation<{ id: string }>("tokens:issue", async ({ db, actor, request, params }) => {
  const started = performance.now();
  const mailboxId = mailboxIdOf(params);
  const body = await jsonBody(request);
  if (!body.ok) return body.response;
  const input = tokenRequestSchema.safeParse(body.value);
  if (!input.success) return invalidRequest(input.error, "body");
  const answer = await issueMailboxToken(db, actor, { tenantId: actor.tenantId, mailboxId }, input.data.purpose);
  if (!answer.ok && "refusal" in answer) return refusalProblem(answer.refusal);
  if (!answer.ok) {
    const { diagnosis, retryAfterSeconds } = answer;
    // Microsoft gave a token, but of another organisation than the tenant's: the portal refuses it.
    const [status, type, title] =
      diagnosis.code === "DIRECTORY_NOT_ALLOWED"
        ? [403, "token-outside-organisation", "The token is of another Microsoft organisation than the tenant's"]
        : [502, "token-refused", "Microsoft refused the token request"];
    return problem(status, type, title, `${diagnosis.cause} ${diagnosis.fix}`, {
      code: diagnosis.code,
      // The refusal recorded a moment ago, answered again without asking Microsoft until then.
      ...(retryAfterSeconds ? { headers: { "retry-after": String(retryAfterSeconds) } } : {}),
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

export const dynamic = "force-dynamic";
