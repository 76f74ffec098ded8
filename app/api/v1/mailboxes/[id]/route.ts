import { mailboxForKey } from "@/lib/service/api-mailboxes";
import { apiOperation, mailboxIdOf } from "../../_lib/api";

export const dynamic = "force-dynamic";

export const GET = apiOperation<{ id: string }>("mailboxes:read", ({ db, actor, params }) =>
  Response.json(mailboxForKey(db, actor, mailboxIdOf(params)), { headers: { "cache-control": "no-store" } }),
);
