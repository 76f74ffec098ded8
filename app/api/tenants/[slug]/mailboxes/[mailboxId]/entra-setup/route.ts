import { fieldErrorsResponse, refusalResponse } from "@/app/_lib/refusal-response";
import { readJsonBody } from "@/lib/json-body";
import { entraSetupStartSchema, startEntraSetup } from "@/lib/service/entra-setups";
import { type MailboxRouteParams, withMailbox } from "../sign-in/with-mailbox";

export const dynamic = "force-dynamic";

/** "Set up in Microsoft Entra for me": answers with the code to enter as soon as Entra gives it. */
export async function POST(request: Request, context: { params: Promise<MailboxRouteParams> }) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withMailbox(context, async ({ db, actor, ref }) => {
    // Checked once the caller is known to be an admin of this tenant: a stranger only learns 401.
    const input = entraSetupStartSchema.safeParse(json.value);
    if (!input.success) return fieldErrorsResponse(input.error);
    const started = await startEntraSetup(db, actor, ref, input.data);
    if (!started.ok) return refusalResponse(started.refusal);
    return Response.json({ setup: started.setup }, { headers: { "cache-control": "no-store" } });
  });
}
