import { testRequestSchema } from "@/lib/api/schemas";
import { getMailboxFor, getTenantSlug } from "@/lib/mailbox/queries";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { apiOperation, invalidRequest, jsonBody, mailboxIdOf, refusalProblem } from "../../../_lib/api";

export const dynamic = "force-dynamic";

/** Runs the button's test; JSON when it is done, or each step as a line with Accept: application/x-ndjson. */
export const POST = apiOperation<{ id: string }>("tests:run", async ({ db, actor, request, params }) => {
  const mailboxId = mailboxIdOf(params);
  const body = await jsonBody(request);
  if (!body.ok) return body.response;
  const input = testRequestSchema.safeParse(body.value);
  if (!input.success) return invalidRequest(input.error, "body");
  const mailbox = getMailboxFor(db, actor, actor.tenantId, mailboxId);
  const started = startMailboxTest(db, actor, { tenantId: actor.tenantId, mailboxId, source: "saved" });
  if (!started.ok) return refusalProblem(started.refusal);
  if ((request.headers.get("accept") ?? "").includes("application/x-ndjson")) {
    const encoder = new TextEncoder();
    const events = started.events;
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          for await (const event of events) controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
        } finally {
          controller.close();
        }
      },
    });
    return new Response(stream, {
      headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" },
    });
  }
  const tenant = getTenantSlug(db, mailbox.tenantId);
  const result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant });
  return Response.json(result, { headers: { "cache-control": "no-store" } });
});
