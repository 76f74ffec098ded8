import { readJsonBody } from "@/lib/json-body";
import { confirmEntraSetup, getEntraSetup } from "@/lib/service/entra-setups";
import { type MailboxRouteParams, withTenant } from "../../mailboxes/[mailboxId]/sign-in/with-mailbox";

export const dynamic = "force-dynamic";

type Context = { params: Promise<Omit<MailboxRouteParams, "mailboxId">> };

/** Where the tenant's setup stands. */
export async function GET(_request: Request, context: Context) {
  return withTenant(context, ({ db, actor, ref, setupId }) =>
    Response.json({ setup: getEntraSetup(db, actor, ref, setupId!) }, { headers: { "cache-control": "no-store" } }),
  );
}

/** The admin confirmed the plan (or resumes it); the tenant's default app registration is then saved. */
export async function POST(request: Request, context: Context) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  return withTenant(context, async ({ db, actor, ref, setupId }) =>
    Response.json(
      { setup: await confirmEntraSetup(db, actor, ref, setupId!) },
      { headers: { "cache-control": "no-store" } },
    ),
  );
}
