import "server-only";
import { and, asc, count, eq, type SQL, sql } from "drizzle-orm";
import { type Db, transaction } from "@/db/client";
import { tenants, type User, users } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { assertSuperAdmin, assertTenantAccess, isSuperAdmin, type UserActor } from "@/lib/auth/actor";
import { lockoutMessage, reserveAttempt, settleAttempt } from "@/lib/auth/attempts";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import type { AttemptSource } from "@/lib/auth/sign-in";
import { getEnv } from "@/lib/env";
import { NotFoundError, UserError } from "@/lib/errors";
import { containsPattern, PAGE_SIZE, pageWindow } from "@/lib/paging";
import type { ChangePasswordInput, CreateUserInput, SetUserDisabledInput } from "./schema";

/** What pages may show of a user: never the hash. */
export type UserSummary = Omit<User, "passwordHash" | "sessionVersion" | "mustChangePassword"> & {
  tenantName: string | null;
};

const summary = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  tenantId: users.tenantId,
  disabled: users.disabled,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  tenantName: tenants.name,
};

/** The users the actor may see, by email, a page at a time; `q` searches email, name and tenant. */
export async function listUsersPage(
  db: Db,
  actor: UserActor,
  query: { q?: string; page?: number; tenantId?: number },
): Promise<{ rows: UserSummary[]; total: number; page: number; pages: number }> {
  const where: SQL[] = [];
  if (!isSuperAdmin(actor)) where.push(eq(users.tenantId, actor.tenantId ?? -1));
  if (query.tenantId !== undefined) where.push(eq(users.tenantId, query.tenantId));
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    where.push(
      sql`(${users.email} LIKE ${like} ESCAPE '\\' OR lower(${users.name}) LIKE ${like} ESCAPE '\\' OR lower(${tenants.name}) LIKE ${like} ESCAPE '\\')`,
    );
  }
  const condition = where.length > 0 ? and(...where) : undefined;
  const total =
    (await db.select({ n: count() }).from(users).leftJoin(tenants, eq(users.tenantId, tenants.id)).where(condition))[0]
      ?.n ?? 0;
  const window = pageWindow(total, query.page);
  const rows = await db
    .select(summary)
    .from(users)
    .leftJoin(tenants, eq(users.tenantId, tenants.id))
    .where(condition)
    .orderBy(asc(users.email))
    .limit(PAGE_SIZE)
    .offset(window.offset);
  return { rows, total, page: window.page, pages: window.pages };
}

export async function listUsersFor(db: Db, actor: UserActor): Promise<UserSummary[]> {
  const query = db
    .select(summary)
    .from(users)
    .leftJoin(tenants, eq(users.tenantId, tenants.id))
    .orderBy(asc(users.email));
  return isSuperAdmin(actor) ? await query : await query.where(eq(users.tenantId, actor.tenantId ?? -1));
}

const UNUSABLE_EMAIL = "This email address cannot be used for a new admin. Use another address.";

export async function countUsers(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(users))[0]?.n ?? 0;
}

export async function createUser(db: Db, actor: UserActor | null, input: CreateUserInput): Promise<User> {
  if (actor) authorizeUserCreation(actor, input);
  const passwordHash = await hashPassword(input.password);
  return transaction(db, async (tx) => {
    if ((await tx.select({ id: users.id }).from(users).where(eq(users.email, input.email)))[0]) {
      // Emails are unique across tenants; a tenant admin must not learn that another tenant uses one.
      const message =
        actor && isSuperAdmin(actor) ? `A user with the email ${input.email} already exists.` : UNUSABLE_EMAIL;
      throw new UserError(message, "email");
    }
    if (input.role === "tenant_admin" && input.tenantId !== undefined) {
      const limit = getEnv().MAX_ADMINS_PER_TENANT;
      const admins = (await tx.select({ n: count() }).from(users).where(eq(users.tenantId, input.tenantId)))[0]?.n ?? 0;
      if (admins >= limit) throw new UserError(`This tenant has ${admins} admins, the most it may have.`);
    }
    if (
      input.tenantId !== undefined &&
      !(await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenantId)))[0]
    ) {
      throw new UserError("That tenant does not exist.", "tenantId");
    }
    const { password: _password, tenantId, ...rest } = input;
    const user = (
      await tx
        .insert(users)
        .values({ ...rest, tenantId: tenantId ?? null, passwordHash })
        .returning()
    )[0]!;
    await recordAudit(tx, actor, {
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

export async function setUserDisabled(db: Db, actor: UserActor, input: SetUserDisabledInput): Promise<User> {
  return transaction(db, async (tx) => {
    const target = (await tx.select().from(users).where(eq(users.id, input.userId)))[0];
    if (!target) throw new NotFoundError();
    if (target.tenantId === null) assertSuperAdmin(actor);
    else assertTenantAccess(actor, target.tenantId);
    if (target.id === actor.id) throw new UserError("You cannot disable or enable your own account.");
    if (target.disabled === input.disabled) return target;
    const user = (
      await tx
        .update(users)
        .set({ disabled: input.disabled, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: new Date() })
        .where(eq(users.id, target.id))
        .returning()
    )[0]!;
    await recordAudit(tx, actor, {
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
export async function changeOwnPassword(
  db: Db,
  actor: UserActor,
  input: ChangePasswordInput,
  source: AttemptSource = {},
): Promise<void> {
  const current = (await db.select().from(users).where(eq(users.id, actor.id)))[0];
  if (!current) throw new NotFoundError();
  // The same counters as signing in: a stolen session cannot guess the password here instead.
  const reservation = await reserveAttempt(db, current.email, source.client ?? "", source.now);
  if (!reservation.ok) throw new UserError(lockoutMessage(reservation.retryAfterMs), "currentPassword");
  if (!(await verifyPassword(input.currentPassword, current.passwordHash))) {
    throw new UserError("The current password is not correct.", "currentPassword");
  }
  await settleAttempt(db, reservation, true);
  const passwordHash = await hashPassword(input.newPassword);
  await transaction(db, async (tx) => {
    await tx
      .update(users)
      .set({
        passwordHash,
        mustChangePassword: false,
        sessionVersion: sql`${users.sessionVersion} + 1`,
        updatedAt: new Date(),
      })
      .where(eq(users.id, actor.id));
    await recordAudit(tx, actor, {
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
