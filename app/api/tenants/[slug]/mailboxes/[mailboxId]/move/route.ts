import { z } from "zod";
import { refusalResponse } from "@/app/_lib/refusal-response";
import { readJsonBody } from "@/lib/json-body";
import { moveToAppOf } from "@/lib/service/migration";
import { type MailboxRouteParams, withMailbox } from "../sign-in/with-mailbox";

export const dynamic = "force-dynamic";

const moveSchema = z.strictObject({
  to: z.literal("app"),
  /** The app-only mailbox of the same tenant whose app this one moves to. */
  appOf: z.int().positive(),
  version: z.int().positive(),
});

/**
 * Moves a password-grant mailbox to app-only with the app another mailbox of the tenant signs in with,
 * once a full test with it passes: 200 with the mailbox's new version, or 422 with the test's diagnosis
 * and the mailbox unchanged; 429 with Retry-After when the test limits allow no test now (nothing was
 * tried). (The move to the Microsoft sign-in is a sign-in: POST …/sign-in {"move": true}.)
 */
export async function POST(request: Request, context: { params: Promise<MailboxRouteParams> }) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  const body = moveSchema.safeParse(json.value);
  if (!body.success) return Response.json({ error: "Send to, appOf and version." }, { status: 400 });
  return withMailbox(context, async ({ db, actor, ref }) => {
    const moved = await moveToAppOf(db, actor, { ...ref, version: body.data.version }, body.data.appOf);
    if (!moved.ok && "refusal" in moved) return refusalResponse(moved.refusal);
    if (!moved.ok) return Response.json({ moved: false, diagnosis: moved.diagnosis }, { status: 422 });
    return Response.json({ moved: true, version: moved.mailbox.version, signInMethod: moved.mailbox.signInMethod });
  });
}
