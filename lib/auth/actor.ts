import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { users, type Role } from "@/db/schema";
import { NotFoundError } from "@/lib/errors";

export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

export type Actor = {
  id: number;
  email: string;
  name: string;
  role: Role;
  tenantId: number | null;
};

export type SessionClaims = { userId: number; sessionVersion: number; signedInAt: number };

/** A session is only as good as the user row behind it: disabled users and old session versions are out. */
export function resolveActor(db: Db, claims: SessionClaims | null, now = Date.now()): Actor | null {
  if (!claims) return null;
  if (now - claims.signedInAt > SESSION_MAX_AGE_SECONDS * 1000 || claims.signedInAt > now + 60_000) return null;
  const user = db.select().from(users).where(eq(users.id, claims.userId)).get();
  if (!user || user.disabled || user.sessionVersion !== claims.sessionVersion) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId };
}

export function isSuperAdmin(actor: Actor): boolean {
  return actor.role === "super_admin";
}

export function canAccessTenant(actor: Actor, tenantId: number): boolean {
  return isSuperAdmin(actor) || actor.tenantId === tenantId;
}

/** Another tenant's row answers exactly like a missing one. */
export function assertTenantAccess(actor: Actor, tenantId: number): void {
  if (!canAccessTenant(actor, tenantId)) throw new NotFoundError();
}

export function assertSuperAdmin(actor: Actor): void {
  if (!isSuperAdmin(actor)) throw new NotFoundError();
}
