import { z } from "zod";
import type { Refusal, RefusalKind } from "@/lib/service/refusals";

/** The one place a refused test becomes an HTTP answer. */
const STATUS: Record<RefusalKind, number> = {
  invalid: 422,
  busy: 409,
  capacity: 429,
  rate_limited: 429,
  cooldown: 429,
};

export function refusalResponse(refusal: Refusal): Response {
  const headers: Record<string, string> = {};
  if ("retryAfterSeconds" in refusal) headers["retry-after"] = String(refusal.retryAfterSeconds);
  const fieldErrors = refusal.kind === "invalid" ? refusal.fieldErrors : {};
  return Response.json(
    { error: refusal.message, kind: refusal.kind, fieldErrors },
    { status: STATUS[refusal.kind], headers },
  );
}

/** A request body that does not parse: 400 with each field's messages, for the page to put beside the field. */
export function fieldErrorsResponse(error: z.ZodError): Response {
  const fieldErrors = z.flattenError(error).fieldErrors;
  return Response.json({ error: "Correct the highlighted fields.", fieldErrors }, { status: 400 });
}
