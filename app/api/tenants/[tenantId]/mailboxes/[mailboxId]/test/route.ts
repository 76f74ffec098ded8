import { z } from "zod";
import { getDb } from "@/db/client";
import { currentActor } from "@/lib/auth/session";
import { prepareMailboxTest } from "@/lib/checks/mailbox-test";
import { NotFoundError } from "@/lib/errors";

export const dynamic = "force-dynamic";

const params = z.object({ tenantId: z.coerce.number().int().positive(), mailboxId: z.coerce.number().int().positive() });
const body = z.object({ source: z.enum(["saved", "form"]).default("saved"), form: z.record(z.string(), z.string()).optional() });

/** Runs the live test of a mailbox and streams each step as one line of JSON as soon as it finishes. */
export async function POST(request: Request, context: { params: Promise<{ tenantId: string; mailboxId: string }> }) {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: "Sign in first." }, { status: 401 });
  // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
  if (!request.headers.get("content-type")?.startsWith("application/json")) return Response.json({ error: "Send JSON." }, { status: 415 });
  const ids = params.safeParse(await context.params);
  const input = body.safeParse(await request.json().catch(() => null));
  if (!ids.success) return Response.json({ error: "Not found" }, { status: 404 });
  if (!input.success) return Response.json({ error: "The request is not understood." }, { status: 400 });
  let prepared;
  try {
    prepared = prepareMailboxTest(getDb(), actor, { ...ids.data, ...input.data });
  } catch (error) {
    if (error instanceof NotFoundError) return Response.json({ error: "Not found" }, { status: 404 });
    throw error;
  }
  if (!prepared.ok) return Response.json({ error: prepared.message, fieldErrors: prepared.fieldErrors ?? {} }, { status: prepared.status });
  const events = prepared.events;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const event of events) controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
      } finally {
        controller.close();
      }
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" } });
}
