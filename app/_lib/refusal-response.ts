import { z } from "zod";
import type { Refusal, RefusalKind } from "@/lib/service/refusals";

/**
 * The one place a refusal becomes an HTTP status, for the portal's own routes and for /api/v1 alike,
 * with the title the API's problem details give it.
 */
export const REFUSAL_ANSWERS: Record<RefusalKind, { status: number; title: string }> = {
  invalid: { status: 422, title: "Not possible" },
  busy: { status: 409, title: "Busy" },
  forbidden: { status: 403, title: "Forbidden" },
  capacity: { status: 429, title: "Busy" },
  rate_limited: { status: 429, title: "Too many" },
  cooldown: { status: 429, title: "Cooling down" },
};

/** Retry-After, where waiting helps. */
export function retryAfterHeaders(refusal: Refusal): Record<string, string> {
  return "retryAfterSeconds" in refusal ? { "retry-after": String(refusal.retryAfterSeconds) } : {};
}

export function refusalResponse(refusal: Refusal): Response {
  const fieldErrors = refusal.kind === "invalid" ? refusal.fieldErrors : {};
  return Response.json(
    { error: refusal.message, kind: refusal.kind, fieldErrors },
    { status: REFUSAL_ANSWERS[refusal.kind].status, headers: retryAfterHeaders(refusal) },
  );
}

/** A request body that does not parse: 400 with each field's messages, for the page to put beside the field. */
export function fieldErrorsResponse(error: z.ZodError): Response {
  const fieldErrors = z.flattenError(error).fieldErrors;
  return Response.json({ error: "Correct the highlighted fields.", fieldErrors }, { status: 400 });
}
