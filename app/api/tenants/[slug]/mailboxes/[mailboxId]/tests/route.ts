import { z } from "zod";
import { refusalResponse } from "@/app/_lib/refusal-response";
import { getDb } from "@/db/client";
import { currentActor } from "@/lib/auth/session";
import { MAIL_TRANSPORTS } from "@/lib/engine/settings";
import { describeError, NotFoundError } from "@/lib/errors";
import { readJsonBody } from "@/lib/json-body";
import { ndjsonResponse } from "@/lib/ndjson";
import { startMailboxTest } from "@/lib/service/mailbox-tests";
import { getTenantBySlugFor } from "@/lib/tenants/queries";

export const dynamic = "force-dynamic";

const params = z.object({ slug: z.string().min(1).max(100), mailboxId: z.coerce.number().int().positive() });
const body = z.object({
  source: z.enum(["saved", "form", "trial"]).default("saved"),
  form: z.record(z.string(), z.string()).optional(),
  /** With source "trial": the saved settings over this transport, without saving it. */
  transport: z.enum(MAIL_TRANSPORTS).optional(),
});

/** Starts a test of a mailbox and streams each step as one line of JSON as soon as it finishes. */
export async function POST(request: Request, context: { params: Promise<{ slug: string; mailboxId: string }> }) {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: "Sign in first." }, { status: 401 });
  if (actor.mustChangePassword) return Response.json({ error: "Change your password first." }, { status: 403 });
  // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  const ids = params.safeParse(await context.params);
  if (!ids.success) return Response.json({ error: "Not found" }, { status: 404 });
  const input = body.safeParse(json.value);
  if (!input.success) return Response.json({ error: "The request is not understood." }, { status: 400 });
  let started: Awaited<ReturnType<typeof startMailboxTest>>;
  try {
    const db = getDb();
    const tenant = await getTenantBySlugFor(db, actor, ids.data.slug);
    started = await startMailboxTest(db, actor, { tenantId: tenant.id, mailboxId: ids.data.mailboxId, ...input.data });
  } catch (error) {
    if (error instanceof NotFoundError) return Response.json({ error: "Not found" }, { status: 404 });
    console.error("test request failed:", describeError(error));
    return Response.json({ error: "Something went wrong on the server; no test was started." }, { status: 500 });
  }
  if (!started.ok) return refusalResponse(started.refusal);
  return ndjsonResponse(started.events);
}
