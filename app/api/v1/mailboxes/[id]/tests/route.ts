import { testRequestSchema } from "@/lib/api/schemas";
import { getMailboxFor, getTenantSlug } from "@/lib/mailbox/queries";
import { ndjsonResponse } from "@/lib/ndjson";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { apiOperation, invalidRequest, jsonBody, mailboxIdOf, refusalProblem } from "../../../_lib/http";

/** POST /api/v1/mailboxes/{id}/tests: the button's test; JSON when done, or NDJSON lines as it goes. */
export const POST = apiOperation<{ id: string }>("tests:run", async ({ db, actor, request, params }) => {
  const mailboxId = mailboxIdOf(params);
  const body = await jsonBody(request);
  if (!body.ok) return body.response;
  const input = testRequestSchema.safeParse(body.value);
  if (!input.success) return invalidRequest(input.error, "body");
  const mailbox = await getMailboxFor(db, actor, actor.tenantId, mailboxId);
  const started = await startMailboxTest(db, actor, { tenantId: actor.tenantId, mailboxId, source: "saved" });
  if (!started.ok) return refusalProblem(started.refusal);
  if ((request.headers.get("accept") ?? "").includes("application/x-ndjson")) {
    return ndjsonResponse(started.events);
  }
  const tenant = await getTenantSlug(db, mailbox.tenantId);
  const result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant });
  return Response.json(result, { headers: { "cache-control": "no-store" } });
});

export const dynamic = "force-dynamic";
