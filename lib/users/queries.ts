import "server-only";
import { asc, count, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tenants, type User, users } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { assertSuperAdmin, assertTenantAccess, isSuperAdmin, type UserActor } from "@/lib/auth/actor";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { NotFoundError, UserError } from "@/lib/errors";
import type { ChangePasswordInput, CreateUserInput, SetUserDisabledInput } from "./schema";

/** What pages may show of a user: never the hash. */
export type UserSummary = Omit<User, "passwordHash" | "sessionVersion"> & { tenantName: string | null };

export function listUsersFor(db: Db, actor: UserActor): UserSummary[] {
  const query = db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      role: users.role,
      tenantId: users.tenantId,
      disabled: users.disabled,
      createdAt: users.createdAt,
      updatedAt: users.updatedAt,
      tenantName: tenants.name,
    })
    .from(users)
    .leftJoin(tenants, eq(users.tenantId, tenants.id))
    .orderBy(asc(users.email));
  return isSuperAdmin(actor) ? query.all() : query.where(eq(users.tenantId, actor.tenantId ?? -1)).all();
}

export function countUsers(db: Db): number {
  return db.select({ n: count() }).from(users).get()?.n ?? 0;
}

export async function createUser(db: Db, actor: UserActor | null, input: CreateUserInput): Promise<User> {
  if (actor) authorizeUserCreation(actor, input);
  const passwordHash = await hashPassword(input.password);
  return db.transaction((tx) => {
    if (tx.select({ id: users.id }).from(users).where(eq(users.email, input.email)).get()) {
      throw new UserError(`A user with the email ${input.email} already exists.`, "email");
    }
    if (
      input.tenantId !== undefined &&
      !tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenantId)).get()
    ) {
      throw new UserError("That tenant does not exist.", "tenantId");
    }
    const { password: _password, tenantId, ...rest } = input;
    const user = tx
      .insert(users)
      .values({ ...rest, tenantId: tenantId ?? null, passwordHash })
      .returning()
      .get();
    recordAudit(tx, actor, {
      tenantId: user.tenantId,
      action: "user.create",
      targetType: "user",
      targetId: user.id,
      targetLabel: user.email,
      changes: {
        email: { to: user.email },
        name: { to: user.name },
        role: { to: user.role },
        tenantId: { to: user.tenantId },
        password: "changed",
      },
    });
    return user;
  });
}

export function setUserDisabled(db: Db, actor: UserActor, input: SetUserDisabledInput): User {
  return db.transaction((tx) => {
    const target = tx.select().from(users).where(eq(users.id, input.userId)).get();
    if (!target) throw new NotFoundError();
    if (target.tenantId === null) assertSuperAdmin(actor);
    else assertTenantAccess(actor, target.tenantId);
    if (target.id === actor.id) throw new UserError("You cannot disable or enable your own account.");
    if (target.disabled === input.disabled) return target;
    const user = tx
      .update(users)
      .set({ disabled: input.disabled, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: new Date() })
      .where(eq(users.id, target.id))
      .returning()
      .get();
    recordAudit(tx, actor, {
      tenantId: user.tenantId,
      action: input.disabled ? "user.disable" : "user.enable",
      targetType: "user",
      targetId: user.id,
      targetLabel: user.email,
      changes: { disabled: { from: target.disabled, to: user.disabled } },
    });
    return user;
  });
}

/** Every session of the user, this one included, ends: they sign in again with the new password. */
export async function changeOwnPassword(db: Db, actor: UserActor, input: ChangePasswordInput): Promise<void> {
  const current = db.select().from(users).where(eq(users.id, actor.id)).get();
  if (!current) throw new NotFoundError();
  if (!(await verifyPassword(input.currentPassword, current.passwordHash))) {
    throw new UserError("The current password is not correct.", "currentPassword");
  }
  const passwordHash = await hashPassword(input.newPassword);
  db.transaction((tx) => {
    tx.update(users)
      .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: new Date() })
      .where(eq(users.id, actor.id))
      .run();
    recordAudit(tx, actor, {
      tenantId: current.tenantId,
      action: "user.password_change",
      targetType: "user",
      targetId: current.id,
      targetLabel: current.email,
      changes: { password: "changed" },
    });
  });
}

function authorizeUserCreation(actor: UserActor, input: CreateUserInput): void {
  if (input.role === "super_admin") assertSuperAdmin(actor);
  if (input.tenantId !== undefined) assertTenantAccess(actor, input.tenantId);
}
