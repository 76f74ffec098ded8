import { confirmSetupAnswer, deleteCreatedAppAnswer, setupAnswer } from "@/app/_lib/entra-setup-answers";
import { readJsonBody } from "@/lib/json-body";
import { type MailboxRouteParams, withMailbox } from "../../sign-in/with-mailbox";

export const dynamic = "force-dynamic";

type Context = { params: Promise<MailboxRouteParams> };

/** Where the mailbox's setup stands. */
export async function GET(_request: Request, context: Context) {
  return withMailbox(context, setupAnswer);
}

/** The admin confirmed the plan (or resumes it): the steps are done, and the app proven by a test. */
export async function POST(request: Request, context: Context) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withMailbox(context, confirmSetupAnswer);
}

/**
 * Deletes the app registration this setup created, once the setup failed after creating it. A DELETE
 * from another site needs a CORS preflight, which is never granted.
 */
export async function DELETE(_request: Request, context: Context) {
  return withMailbox(context, deleteCreatedAppAnswer);
}
