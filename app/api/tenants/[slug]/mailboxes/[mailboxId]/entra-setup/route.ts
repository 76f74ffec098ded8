import { startSetupAnswer } from "@/app/_lib/entra-setup-answers";
import { readJsonBody } from "@/lib/json-body";
import { type MailboxRouteParams, withMailbox } from "../sign-in/with-mailbox";

export const dynamic = "force-dynamic";

/** "Set up in Microsoft Entra for me" for this mailbox. */
export async function POST(request: Request, context: { params: Promise<MailboxRouteParams> }) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withMailbox(context, (scope) => startSetupAnswer(scope, json.value));
}
