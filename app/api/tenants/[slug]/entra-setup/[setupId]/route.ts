import { confirmSetupAnswer, deleteCreatedAppAnswer, setupAnswer } from "@/app/_lib/entra-setup-answers";
import { readJsonBody } from "@/lib/json-body";
import { type MailboxRouteParams, withTenant } from "../../mailboxes/[mailboxId]/sign-in/with-mailbox";

export const dynamic = "force-dynamic";

type Context = { params: Promise<Omit<MailboxRouteParams, "mailboxId">> };

/** Where the tenant's setup stands. */
export async function GET(_request: Request, context: Context) {
  return withTenant(context, setupAnswer);
}

/** The admin confirmed the plan (or resumes it); the tenant's default app registration is then saved. */
export async function POST(request: Request, context: Context) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withTenant(context, confirmSetupAnswer);
}

/** Deletes the app registration this setup created, once the setup failed after creating it. */
export async function DELETE(_request: Request, context: Context) {
  return withTenant(context, deleteCreatedAppAnswer);
}
