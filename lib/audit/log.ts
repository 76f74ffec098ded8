import "server-only";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db, Queryable } from "@/db/client";
import { type AuditChange, type AuditEntry, auditLog } from "@/db/schema";
import { type Actor, actorLabel, actorUserId, isSuperAdmin, type UserActor } from "@/lib/auth/actor";

export type AuditRecord = {
  tenantId: number | null;
  action: string;
  targetType: string;
  targetId: string | number;
  targetLabel: string;
  changes?: Record<string, AuditChange>;
};

/** Append-only: the table's triggers refuse UPDATE and DELETE. Call inside the change's transaction. */
export async function recordAudit(
  tx: Queryable,
  actor: Actor | null,
  record: AuditRecord,
  at = new Date(),
): Promise<void> {
  await tx.insert(auditLog).values({
    at,
    actorId: actor ? actorUserId(actor) : null,
    actorEmail: actor ? actorLabel(actor) : "system",
    tenantId: record.tenantId,
    action: record.action,
    targetType: record.targetType,
    targetId: String(record.targetId),
    targetLabel: record.targetLabel,
    changes: record.changes ?? {},
  });
}

/** An entry about one mailbox: its tenant, id and name as the target. */
export async function recordMailboxAudit(
  tx: Queryable,
  actor: Actor,
  mailbox: { id: number; tenantId: number; name: string },
  action: string,
  changes: Record<string, AuditChange>,
): Promise<void> {
  await recordAudit(tx, actor, {
    tenantId: mailbox.tenantId,
    action,
    targetType: "mailbox",
    targetId: mailbox.id,
    targetLabel: mailbox.name,
    changes,
  });
}

/** Field-by-field changes; secret fields only ever say "changed". */
export function diffChanges(
  before: Record<string, unknown> | null,
  after: Record<string, unknown>,
  secretFields: readonly string[] = [],
): Record<string, AuditChange> {
  const changes: Record<string, AuditChange> = {};
  // A field present before and gone after was removed: it counts as a change too.
  const fields = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  for (const field of fields) {
    const to = after[field];
    const from = before?.[field];
    if (before && sameValue(from, to)) continue;
    if (secretFields.includes(field)) changes[field] = "changed";
    else changes[field] = before ? { from: plain(from), to: plain(to) } : { to: plain(to) };
  }
  return changes;
}

export async function listAuditFor(
  db: Db,
  actor: UserActor,
  options: { limit?: number; beforeId?: number } = {},
): Promise<AuditEntry[]> {
  const conditions: SQL[] = [];
  if (!isSuperAdmin(actor)) conditions.push(eq(auditLog.tenantId, actor.tenantId ?? -1));
  if (options.beforeId) conditions.push(lt(auditLog.id, options.beforeId));
  return await db
    .select()
    .from(auditLog)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(options.limit ?? 100);
}

function plain(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : (value ?? null);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}
