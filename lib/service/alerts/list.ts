import "server-only";
import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type Alert, type AlertDelivery, alertChannels, alertDeliveries, alerts, tenants } from "@/db/schema";
import { type Actor, isSuperAdmin } from "@/lib/auth/actor";
import { containsPattern, PAGE_SIZE } from "@/lib/paging";

export type AlertRow = Alert & {
  tenantSlug: string;
  tenantName: string;
  deliveries: (Pick<AlertDelivery, "status" | "attempts" | "lastError" | "deliveredAt" | "nextAttemptAt"> & {
    channelName: string;
  })[];
};

/** The alert history the actor may see, newest first, a page at a time, each with its deliveries. */
export async function listAlerts(
  db: Db,
  actor: Actor,
  query: { q?: string; tenant?: string; page?: number },
): Promise<{ rows: AlertRow[]; page: number; hasMore: boolean }> {
  const scope: SQL[] = [];
  if (query.tenant) scope.push(eq(tenants.slug, query.tenant));
  if (actor.kind !== "system" && !isSuperAdmin(actor)) scope.push(eq(alerts.tenantId, actor.tenantId ?? -1));
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    scope.push(
      sql`(lower(${alerts.title}) LIKE ${like} ESCAPE '\\' OR lower(${tenants.name}) LIKE ${like} ESCAPE '\\')`,
    );
  }
  const page = Math.max(1, query.page ?? 1);
  const listed = await db
    .select({ alert: alerts, tenantSlug: tenants.slug, tenantName: tenants.name })
    .from(alerts)
    .innerJoin(tenants, eq(tenants.id, alerts.tenantId))
    .where(scope.length > 0 ? and(...scope) : undefined)
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(PAGE_SIZE + 1)
    .offset((page - 1) * PAGE_SIZE);
  const ids = listed.slice(0, PAGE_SIZE).map((r) => r.alert.id);
  const deliveries =
    ids.length === 0
      ? []
      : await db
          .select({
            alertId: alertDeliveries.alertId,
            status: alertDeliveries.status,
            attempts: alertDeliveries.attempts,
            lastError: alertDeliveries.lastError,
            deliveredAt: alertDeliveries.deliveredAt,
            nextAttemptAt: alertDeliveries.nextAttemptAt,
            channelName: alertChannels.name,
          })
          .from(alertDeliveries)
          .innerJoin(alertChannels, eq(alertChannels.id, alertDeliveries.channelId))
          .where(inArray(alertDeliveries.alertId, ids));
  const rows = listed.slice(0, PAGE_SIZE).map(({ alert, tenantSlug, tenantName }) => ({
    ...alert,
    tenantSlug,
    tenantName,
    deliveries: deliveries.filter((d) => d.alertId === alert.id),
  }));
  return { rows, page, hasMore: listed.length > PAGE_SIZE };
}
