import "server-only";
import { and, asc, count, eq, sql } from "drizzle-orm";
import { type Db, preparedOnce, type Queryable } from "@/db/client";
import { type Mailbox, mailboxes, tenants } from "@/db/schema";
import { type Actor, assertMailboxAccess, assertTenantAccess, isSuperAdmin } from "@/lib/auth/actor";
import type { SignInMethod } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { NotFoundError, UserError } from "@/lib/errors";
import { containsPattern, PAGE_SIZE, pageWindow } from "@/lib/paging";
import { type PasswordState, passwordState } from "./password";

export type MailboxSummary = Pick<Mailbox, "id" | "name" | "login" | "type" | "transport" | "updatedAt"> & {
  method: SignInMethod;
  /** What the method still lacks before a test can pass, in words; null when nothing. */
  missing: string | null;
};

/** Everything the page may know about a mailbox: no secret, only whether one is stored (and when it expires). */
export type MailboxView = Omit<Mailbox, "passwordSealed" | "clientSecretSealed" | "privateKeySealed"> & {
  passwordState: PasswordState;
  appCredentialState: "none" | "secret" | "certificate";
};

export async function listMailboxesFor(db: Db, actor: Actor, tenantId: number): Promise<MailboxSummary[]> {
  assertTenantAccess(actor, tenantId);
  return (await db.select().from(mailboxes).where(eq(mailboxes.tenantId, tenantId)).orderBy(asc(mailboxes.name))).map(
    summaryOf,
  );
}

/** The tenant page's list: the tenant's mailboxes by name, a page at a time; `q` searches name and login. */
export async function listMailboxesPage(
  db: Db,
  actor: Actor,
  tenantId: number,
  query: { q?: string; page?: number },
): Promise<{ rows: MailboxSummary[]; total: number; page: number; pages: number }> {
  assertTenantAccess(actor, tenantId);
  const where = [eq(mailboxes.tenantId, tenantId)];
  const q = query.q?.trim();
  if (q) {
    const like = containsPattern(q);
    where.push(
      sql`(lower(${mailboxes.name}) LIKE ${like} ESCAPE '\\' OR lower(${mailboxes.login}) LIKE ${like} ESCAPE '\\')`,
    );
  }
  const total =
    (
      await db
        .select({ n: count() })
        .from(mailboxes)
        .where(and(...where))
    )[0]?.n ?? 0;
  const window = pageWindow(total, query.page);
  const rows = (
    await db
      .select()
      .from(mailboxes)
      .where(and(...where))
      .orderBy(asc(mailboxes.name))
      .limit(PAGE_SIZE)
      .offset(window.offset)
  ).map(summaryOf);
  return { rows, total, page: window.page, pages: window.pages };
}

function summaryOf(mailbox: Mailbox): MailboxSummary {
  const { signInMethod: method, id, name, login, type, transport, updatedAt } = mailbox;
  return { id, name, login, type, transport, updatedAt, method, missing: missingCredential(mailbox, method) };
}

function missingCredential(mailbox: Mailbox, method: SignInMethod): string | null {
  if (method === "app") return mailbox.clientSecretSealed || mailbox.privateKeySealed ? null : "no credential";
  if (method === "device") {
    if (mailbox.signInLostAt) return "sign in again";
    return mailbox.signedInAt ? null : "awaiting sign-in";
  }
  return mailbox.passwordSealed ? null : "no password";
}

/** Fetch-or-throw within the tenant: another tenant's mailbox is as missing as one that never existed. */
export async function getMailboxFor(
  db: Queryable,
  actor: Actor,
  tenantId: number,
  mailboxId: number,
): Promise<Mailbox> {
  assertTenantAccess(actor, tenantId);
  assertMailboxAccess(actor, mailboxId);
  const mailbox = (
    await preparedOnce(db, "mailboxInTenant", (q) =>
      q
        .select()
        .from(mailboxes)
        .where(and(eq(mailboxes.id, sql.placeholder("id")), eq(mailboxes.tenantId, sql.placeholder("tenantId"))))
        .prepare(),
    ).execute({ id: mailboxId, tenantId })
  )[0];
  if (!mailbox) throw new NotFoundError();
  return mailbox;
}

/**
 * The mailbox an actor is about to change (save, re-point, sign in, delete). The portal's alert sender
 * (ALERT_SENDER_MAILBOX) sends every tenant's alerts, so only a super-admin may change it.
 */
export async function getMailboxToChange(
  db: Queryable,
  actor: Actor,
  tenantId: number,
  mailboxId: number,
): Promise<Mailbox> {
  const mailbox = await getMailboxFor(db, actor, tenantId, mailboxId);
  if (mailbox.id === getEnv().ALERT_SENDER_MAILBOX && actor.kind === "user" && !isSuperAdmin(actor)) {
    throw new UserError("This mailbox sends the portal's alerts for every tenant: only a super-admin can change it.");
  }
  return mailbox;
}

export async function getTenantSlug(db: Queryable, tenantId: number): Promise<string> {
  return (await db.select({ slug: tenants.slug }).from(tenants).where(eq(tenants.id, tenantId)))[0]?.slug ?? "";
}

/** A loaded mailbox as a page may see it: sealed secrets replaced by their state. */
export function toMailboxView(mailbox: Mailbox): MailboxView {
  const { passwordSealed: _password, clientSecretSealed, privateKeySealed, ...rest } = mailbox;
  const appCredentialState = clientSecretSealed ? "secret" : privateKeySealed ? "certificate" : "none";
  return { ...rest, passwordState: passwordState(mailbox), appCredentialState };
}
