import { openApiDocument } from "@/lib/api/openapi";
import { getEnv } from "@/lib/env";

export const dynamic = "force-dynamic";

/** The OpenAPI 3.1 description of /api/v1; public, like any API reference. */
export function GET(request: Request) {
  const origin = getEnv().NEXTAUTH_URL?.replace(/\/+$/, "") ?? new URL(request.url).origin;
  return Response.json(openApiDocument(origin), { headers: { "cache-control": "public, max-age=300" } });
}
