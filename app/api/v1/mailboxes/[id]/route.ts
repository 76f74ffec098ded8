import { mailboxForKey } from "@/lib/api/mailboxes";
import { apiOperation, mailboxIdOf } from "../../_lib/http";

/** GET /api/v1/mailboxes/{id}: the settings without secrets. */
export const GET = apiOperation<{ id: string }>("mailboxes:read", async ({ db, actor, params }) =>
  Response.json(await mailboxForKey(db, actor, mailboxIdOf(params)), { headers: { "cache-control": "no-store" } }),
);

export const dynamic = "force-dynamic";
