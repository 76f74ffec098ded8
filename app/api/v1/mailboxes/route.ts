import { listMailboxesForKey } from "@/lib/api/mailboxes";
import { listQuerySchema } from "@/lib/api/schemas";
import { apiOperation, invalidRequest } from "../_lib/http";

/** GET /api/v1/mailboxes: a page of the mailboxes the key may see. */
export const GET = apiOperation("mailboxes:read", async ({ db, actor, request }) => {
  const query = listQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return invalidRequest(query.error, "query");
  return Response.json(await listMailboxesForKey(db, actor, query.data), { headers: { "cache-control": "no-store" } });
});

export const dynamic = "force-dynamic";
