import { cancelDeviceSignIn, getDeviceSignIn } from "@/lib/service/device-sign-ins";
import { type MailboxRouteParams, withMailbox } from "../with-mailbox";

export const dynamic = "force-dynamic";

type Context = { params: Promise<MailboxRouteParams> };

/** Where a sign-in stands; the page asks every few seconds while it waits. */
export async function GET(_request: Request, context: Context) {
  return withMailbox(context, async ({ db, actor, ref, signInId }) =>
    Response.json(
      { signIn: await getDeviceSignIn(db, actor, ref, signInId!) },
      { headers: { "cache-control": "no-store" } },
    ),
  );
}

/** Cancels a waiting sign-in. */
export async function DELETE(_request: Request, context: Context) {
  return withMailbox(context, async ({ db, actor, ref, signInId }) =>
    Response.json({ signIn: await cancelDeviceSignIn(db, actor, ref, signInId!) }),
  );
}
