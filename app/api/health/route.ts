import { getDb } from "@/db/client";
import { checkHealth } from "@/lib/health";

export const dynamic = "force-dynamic";

// Public on purpose (load balancers, monitoring); it says nothing about tenants or users.
export async function GET() {
  const health = await checkHealth(getDb);
  return Response.json(health, { status: health.ok ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
