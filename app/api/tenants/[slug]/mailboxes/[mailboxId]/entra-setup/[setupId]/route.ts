import { readJsonBody } from "@/lib/json-body";
import { confirmEntraSetup, getEntraSetup } from "@/lib/service/entra-setups";
import { type MailboxRouteParams, withMailbox } from "../../sign-in/with-mailbox";

export const dynamic = "force-dynamic";

type Context = { params: Promise<MailboxRouteParams> };

/** Where a setup stands; the page asks every two seconds while it waits. */
export async function GET(_request: Request, context: Context) {
  return withMailbox(context, ({ db, actor, ref, setupId }) =>
    Response.json({ setup: getEntraSetup(db, actor, ref, setupId!) }, { headers: { "cache-control": "no-store" } }),
  );
}

/** The admin confirmed the plan (or resumes it): the steps are done, and the app proven by a test. */
export async function POST(request: Request, context: Context) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withMailbox(context, async ({ db, actor, ref, setupId }) =>
    Response.json(
      { setup: await confirmEntraSetup(db, actor, ref, setupId!) },
      { headers: { "cache-control": "no-store" } },
    ),
  );
}
