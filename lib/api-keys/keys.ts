import "server-only";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, count, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { type Db, preparedOnce, transaction } from "@/db/client";
import { type ApiKey, type ApiScope, apiKeys, mailboxes } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { type ApiKeyActor, assertTenantAccess, type UserActor } from "@/lib/auth/actor";
import { NotFoundError, UserError } from "@/lib/errors";
import type { CreateApiKeyInput } from "./schema";

/** `nvm_` + 12 hex characters (the public id, shown in lists) + `_` + 43 characters of a 256-bit secret. */
const KEY_SHAPE = /^nvm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
export const MAX_ACTIVE_KEYS_PER_TENANT = 50;
// The last-used time and address are written at most this often per key (and at once when the address changes).
const LAST_USED_EVERY_MS = 60_000;

const hashOf = (secret: string) => createHash("sha256").update(secret).digest();

export type ApiKeyView = Omit<ApiKey, "secretHash"> & { state: "active" | "revoked" | "expired" };

/** A new key for the tenant; the returned `key` is the only time its secret exists outside the caller. */
export async function createApiKey(
  db: Db,
  actor: UserActor,
  input: CreateApiKeyInput,
): Promise<{ view: ApiKeyView; key: string }> {
  return transaction(db, async (tx) => {
    assertTenantAccess(actor, input.tenantId);
    const active =
      (
        await tx
          .select({ n: count() })
          .from(apiKeys)
          .where(and(eq(apiKeys.tenantId, input.tenantId), isNull(apiKeys.revokedAt)))
      )[0]?.n ?? 0;
    if (active >= MAX_ACTIVE_KEYS_PER_TENANT) {
      throw new UserError(`This tenant has ${active} active API keys, the most it may have. Revoke one first.`);
    }
    const clash = (
      await tx
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, input.tenantId), eq(apiKeys.name, input.name)))
    )[0];
    if (clash) throw new UserError(`This tenant already has an API key named "${input.name}".`, "name");
    const mailboxIds = input.mailboxIds.length > 0 ? [...new Set(input.mailboxIds)].sort((a, b) => a - b) : null;
    if (mailboxIds) {
      const own = await tx
        .select({ id: mailboxes.id })
        .from(mailboxes)
        .where(and(eq(mailboxes.tenantId, input.tenantId), inArray(mailboxes.id, mailboxIds)));
      if (own.length !== mailboxIds.length) throw new UserError("Choose mailboxes of this tenant.", "mailboxIds");
    }
    const publicId = `nvm_${randomBytes(6).toString("hex")}`;
    const secret = randomBytes(32).toString("base64url");
    const row = (
      await tx
        .insert(apiKeys)
        .values({
          tenantId: input.tenantId,
          name: input.name,
          publicId,
          secretHash: hashOf(secret).toString("hex"),
          scopes: input.scopes,
          mailboxIds,
          tokenPurpose: input.tokenPurpose ?? null,
          expiresAt: input.expiresAt ?? null,
          createdBy: actor.email,
          createdAt: new Date(),
        })
        .returning()
    )[0]!;
    await recordAudit(tx, actor, {
      tenantId: input.tenantId,
      action: "api_key.create",
      targetType: "api_key",
      targetId: row.id,
      targetLabel: `${row.name} (${publicId})`,
      changes: {
        scopes: { to: row.scopes.join(" ") },
        mailboxes: { to: mailboxIds ? mailboxIds.join(", ") : "all" },
        tokenPurpose: { to: row.tokenPurpose ?? "smtp and imap" },
        expiresAt: { to: row.expiresAt?.toISOString() ?? "never" },
      },
    });
    return { view: toView(row), key: `${publicId}_${secret}` };
  });
}

export async function listApiKeys(db: Db, actor: UserActor, tenantId: number): Promise<ApiKeyView[]> {
  assertTenantAccess(actor, tenantId);
  return (await db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(desc(apiKeys.createdAt))).map(
    toView,
  );
}

export async function revokeApiKey(db: Db, actor: UserActor, tenantId: number, keyId: number): Promise<ApiKeyView> {
  return transaction(db, async (tx) => {
    assertTenantAccess(actor, tenantId);
    const row = (
      await tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId)))
    )[0];
    if (!row) throw new NotFoundError();
    if (row.revokedAt) return toView(row);
    const revoked = (
      await tx
        .update(apiKeys)
        .set({ revokedAt: new Date(), revokedBy: actor.email })
        .where(eq(apiKeys.id, row.id))
        .returning()
    )[0]!;
    await recordAudit(tx, actor, {
      tenantId,
      action: "api_key.revoke",
      targetType: "api_key",
      targetId: row.id,
      targetLabel: `${row.name} (${row.publicId})`,
    });
    return toView(revoked);
  });
}

export type KeyRefusal = "missing" | "malformed" | "unknown" | "revoked" | "expired";

/**
 * The caller of /api/v1, from `Authorization: Bearer <key>`. Only the hash of the secret is compared,
 * in constant time; the key's last use (time and client address) is kept.
 */
export async function authenticateApiKey(
  db: Db,
  authorization: string | null,
  client: string,
  now = Date.now(),
): Promise<{ ok: true; actor: ApiKeyActor } | { ok: false; refusal: KeyRefusal }> {
  if (!authorization) return { ok: false, refusal: "missing" };
  const bearer = /^Bearer ([^\s]{1,200})$/i.exec(authorization.trim())?.[1];
  const parts = bearer ? KEY_SHAPE.exec(bearer) : null;
  if (!parts) return { ok: false, refusal: "malformed" };
  const row = (
    await preparedOnce(db, "apiKeyByPublicId", (q) =>
      q
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.publicId, sql.placeholder("publicId")))
        .prepare(),
    ).execute({ publicId: `nvm_${parts[1]}` })
  )[0];
  const presented = hashOf(parts[2]!);
  const stored = Buffer.from(row?.secretHash ?? "00".repeat(32), "hex");
  if (!timingSafeEqual(presented, stored) || !row) return { ok: false, refusal: "unknown" };
  if (row.revokedAt) return { ok: false, refusal: "revoked" };
  if (row.expiresAt && row.expiresAt.getTime() <= now) return { ok: false, refusal: "expired" };
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= LAST_USED_EVERY_MS || row.lastUsedFrom !== client) {
    await db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now), lastUsedFrom: client })
      .where(eq(apiKeys.id, row.id));
  }
  const { id, publicId, name, tenantId, scopes, mailboxIds, tokenPurpose } = row;
  return { ok: true, actor: { kind: "api_key", id, publicId, name, tenantId, scopes, mailboxIds, tokenPurpose } };
}

export function hasScope(actor: ApiKeyActor, scope: ApiScope): boolean {
  return actor.scopes.includes(scope);
}

function toView(row: ApiKey): ApiKeyView {
  const { secretHash: _hash, ...rest } = row;
  const state = row.revokedAt
    ? "revoked"
    : row.expiresAt && row.expiresAt.getTime() <= Date.now()
      ? "expired"
      : "active";
  return { ...rest, state };
}

/**
 * App-only mailboxes share what their app may do: Exchange lets an app token into every mailbox the
 * app has rights on, so a key limited to some mailboxes still reaches the others of the same app.
 * For the chosen mailboxes (none: the tenant's every app-only mailbox), the app-only ones grouped
 * by app, each with the tenant's other mailboxes of that app; empty when none signs in as an app.
 */
export async function appOnlyReach(
  db: Db,
  tenantId: number,
  chosen: number[],
): Promise<{ clientId: string; chosen: string[]; others: string[] }[]> {
  const appOnly = await db
    .select({ id: mailboxes.id, name: mailboxes.name, clientId: mailboxes.azureClientId })
    .from(mailboxes)
    .where(and(eq(mailboxes.tenantId, tenantId), eq(mailboxes.signInMethod, "app")))
    .orderBy(mailboxes.name);
  const picked = chosen.length > 0 ? appOnly.filter((m) => chosen.includes(m.id)) : appOnly;
  const apps = [...new Set(picked.map((m) => m.clientId ?? ""))].filter(Boolean);
  return apps.map((clientId) => ({
    clientId,
    chosen: picked.filter((m) => m.clientId === clientId).map((m) => m.name),
    others: appOnly.filter((m) => m.clientId === clientId && !picked.includes(m)).map((m) => m.name),
  }));
}

/** The key form's warning for `appOnlyReach`, in words; null when no chosen mailbox signs in as an app. */
export function appOnlyWarning(reach: Awaited<ReturnType<typeof appOnlyReach>>, limited: boolean): string | null {
  if (reach.length === 0) return null;
  const apps = reach.map((app) => {
    const shared = app.others.length > 0 ? `, and so does ${app.others.join(", ")} of this tenant` : "";
    return `${app.chosen.join(", ")} sign${app.chosen.length === 1 ? "s" : ""} in as the app ${app.clientId}${shared}`;
  });
  return `${apps.join("; ")}. Exchange lets an app's token into every mailbox the app has rights on${limited ? ", whichever mailboxes this key is limited to" : ""}: limit the app in Exchange (an application access policy or RBAC for Applications scoped to its mailboxes), or give each mailbox its own app registration.`;
}
