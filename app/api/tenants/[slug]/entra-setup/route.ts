import { startSetupAnswer } from "@/app/_lib/entra-setup-answers";
import { readJsonBody } from "@/lib/json-body";
import { type MailboxRouteParams, withTenant } from "../mailboxes/[mailboxId]/sign-in/with-mailbox";

export const dynamic = "force-dynamic";

type Context = { params: Promise<Omit<MailboxRouteParams, "mailboxId">> };

/** "Set up in Microsoft Entra for me" for the tenant's default app registration. */
export async function POST(request: Request, context: Context) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withTenant(context, (scope) => startSetupAnswer(scope, json.value));
}
