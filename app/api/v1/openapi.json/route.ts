import { openApiDocument } from "@/lib/api/openapi";
import { getEnv } from "@/lib/env";
import { withSecurityHeaders } from "../_lib/http";

/** GET /api/v1/openapi.json: the description of the API; public, like any API reference. */
export function GET(request: Request): Response {
  const origin = getEnv().NEXTAUTH_URL?.replace(/\/+$/, "") ?? new URL(request.url).origin;
  return withSecurityHeaders(
    Response.json(openApiDocument(origin), { headers: { "cache-control": "public, max-age=300" } }),
  );
}

export const dynamic = "force-dynamic";
