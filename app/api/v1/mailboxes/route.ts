import { listQuerySchema } from "@/lib/api/schemas";
import { listMailboxesForKey } from "@/lib/service/api-mailboxes";
import { apiOperation, invalidRequest } from "../_lib/api";

export const dynamic = "force-dynamic";

export const GET = apiOperation("mailboxes:read", ({ db, actor, request }) => {
  const query = listQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return invalidRequest(query.error, "query");
  return Response.json(listMailboxesForKey(db, actor, query.data), { headers: { "cache-control": "no-store" } });
});
