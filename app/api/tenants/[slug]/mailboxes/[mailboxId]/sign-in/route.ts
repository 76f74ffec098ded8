import { refusalResponse } from "@/app/_lib/refusal-response";
import { readJsonBody } from "@/lib/json-body";
import { startDeviceSignIn } from "@/lib/service/device-sign-ins";
import { type MailboxRouteParams, withMailbox } from "./with-mailbox";

export const dynamic = "force-dynamic";

/**
 * "Sign in with Microsoft": answers with the code to enter as soon as Entra gives it. `{"move": true}`
 * moves a password-grant mailbox to the Microsoft sign-in, once a test with it passes.
 */
export async function POST(request: Request, context: { params: Promise<MailboxRouteParams> }) {
  // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withMailbox(context, async ({ db, actor, ref }) => {
    const move = (json.value as { move?: unknown } | null)?.move === true;
    const started = await startDeviceSignIn(db, actor, ref, { move });
    if (!started.ok) return refusalResponse(started.refusal);
    return Response.json({ signIn: started.signIn }, { headers: { "cache-control": "no-store" } });
  });
}
