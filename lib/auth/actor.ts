import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type ApiScope, type Role, type User, users } from "@/db/schema";
import type { TokenPurpose } from "@/lib/engine/settings";
import { NotFoundError } from "@/lib/errors";

export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

/** A signed-in administrator. */
export type UserActor = {
  kind: "user";
  id: number;
  email: string;
  name: string;
  role: Role;
  tenantId: number | null;
  /** Set for a generated first password: the portal allows nothing but changing it. */
  mustChangePassword: boolean;
};

/** The portal acting on its own (command line, scheduler): every tenant, and its own name in the audit log. */
export type SystemActor = { kind: "system"; label: string };

/** A business system calling /api/v1 with one of its tenant's API keys: that tenant, those scopes. */
export type ApiKeyActor = {
  kind: "api_key";
  id: number;
  publicId: string;
  name: string;
  tenantId: number;
  scopes: ApiScope[];
  /** The mailboxes the key is limited to; null for all of the tenant's. */
  mailboxIds: number[] | null;
  /** The one protocol the key's tokens are for; null for both. */
  tokenPurpose: TokenPurpose | null;
};

export type Actor = UserActor | SystemActor | ApiKeyActor;

export const SYSTEM_ACTORS = {
  cli: { kind: "system", label: "npm run check" },
  cliSignIn: { kind: "system", label: "npm run sign-in" },
  scheduler: { kind: "system", label: "scheduler" },
} as const satisfies Record<string, SystemActor>;

/** Who did it, as the audit log and the test history say it. */
export function actorLabel(actor: Actor): string {
  if (actor.kind === "api_key") return `API key ${actor.name} (${actor.publicId})`;
  return actor.kind === "user" ? actor.email : actor.label;
}

export function actorUserId(actor: Actor): number | null {
  return actor.kind === "user" ? actor.id : null;
}

export type SessionClaims = { userId: number; sessionVersion: number; signedInAt: number };

/** A session is only as good as the user row behind it: disabled users and old session versions are out. */
export async function resolveActor(db: Db, claims: SessionClaims | null, now = Date.now()): Promise<UserActor | null> {
  if (!claims) return null;
  if (now - claims.signedInAt > SESSION_MAX_AGE_SECONDS * 1000 || claims.signedInAt > now + 60_000) return null;
  const user = (await db.select().from(users).where(eq(users.id, claims.userId)))[0];
  if (!user || user.disabled || user.sessionVersion !== claims.sessionVersion) return null;
  return userActorOf(user);
}

/** The actor a user row stands for. */
export function userActorOf(user: User): UserActor {
  const { id, email, name, role, tenantId, mustChangePassword } = user;
  return { kind: "user", id, email, name, role, tenantId, mustChangePassword };
}

export function isSuperAdmin(actor: Actor): boolean {
  return actor.kind === "user" && actor.role === "super_admin";
}

function canAccessTenant(actor: Actor, tenantId: number): boolean {
  return actor.kind === "system" || isSuperAdmin(actor) || actor.tenantId === tenantId;
}

/** A key limited to some mailboxes reaches only those; another mailbox answers like a missing one. */
export function assertMailboxAccess(actor: Actor, mailboxId: number): void {
  if (actor.kind === "api_key" && actor.mailboxIds && !actor.mailboxIds.includes(mailboxId)) throw new NotFoundError();
}

/** Another tenant's row answers exactly like a missing one. */
export function assertTenantAccess(actor: Actor, tenantId: number): void {
  if (!canAccessTenant(actor, tenantId)) throw new NotFoundError();
}

export function assertSuperAdmin(actor: Actor): void {
  if (!isSuperAdmin(actor)) throw new NotFoundError();
}
