import { performance } from "node:perf_hooks";
import { SEND_LIMITS, sendMessageRequestSchema } from "@/lib/api/schemas";
import { sendApiMessage } from "@/lib/service/api-messages";
import { apiOperation, invalidRequest, jsonBody, mailboxIdOf, problem, refusalProblem } from "../../../_lib/http";

/** Printable ASCII without spaces, 1 to 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * POST /api/v1/mailboxes/{id}/messages: sends one message through the mailbox's own transport and
 * answers 202 with its Message-ID, or the diagnosis of the refusal. An Idempotency-Key sends once.
 */
export const POST = apiOperation<{ id: string }>("mail:send", async ({ db, actor, request, params }) => {
  const started = performance.now();
  const mailboxId = mailboxIdOf(params);
  const key = request.headers.get("idempotency-key");
  if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
    return problem(400, "invalid-request", "Invalid request", "Idempotency-Key is 1 to 255 printable characters.", {
      errors: { "Idempotency-Key": ["1 to 255 printable ASCII characters."] },
    });
  }
  const body = await jsonBody(request, SEND_LIMITS.bodyBytes);
  if (!body.ok) return body.response;
  const input = sendMessageRequestSchema.safeParse(body.value);
  if (!input.success) return invalidRequest(input.error, "body");
  const { reply_to, attachments, ...rest } = input.data;
  const message = {
    ...rest,
    replyTo: reply_to,
    attachments: attachments?.map((a) => ({
      filename: a.filename,
      contentType: a.content_type,
      content: Buffer.from(a.content_base64, "base64"),
    })),
  };
  const sent = await sendApiMessage(db, actor, mailboxId, message, key);
  if (!sent.ok) return refusalProblem(sent.refusal);
  const headers = {
    "cache-control": "no-store",
    "server-timing": `app;dur=${(performance.now() - started).toFixed(2)}`,
    ...(sent.answer.replayed ? { "idempotent-replayed": "true" } : {}),
  };
  if ("refused" in sent.answer) {
    const { status, code, detail } = sent.answer.refused;
    const [type, title] =
      status === 422
        ? ["not-possible", "The mailbox cannot send as it is"]
        : ["send-refused", "Microsoft or the mail server refused the message"];
    return problem(status, type, title, detail, { code, headers });
  }
  return Response.json(sent.answer.accepted, { status: 202, headers });
});

export const dynamic = "force-dynamic";
