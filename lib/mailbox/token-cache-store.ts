import "server-only";
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { type Db, preparedOnce, type Queryable, transaction } from "@/db/client";
import { type Mailbox, mailboxes, tokenCaches } from "@/db/schema";
import { open, seal, sealingContext } from "@/lib/crypto/seal";
import type { TokenCacheStore } from "@/lib/engine/credentials";
import type { CheckSettings } from "@/lib/engine/settings";

/** The saved mailbox, at the version the test started from. */
type Owner = Pick<
  Mailbox,
  "id" | "tenantId" | "version" | "signInMethod" | "passwordChangedAt" | "appCredentialChangedAt" | "signedInAt"
>;

export const tokenCacheContext = (owner: Pick<Mailbox, "id" | "tenantId">) =>
  sealingContext({ tenantId: owner.tenantId, table: "token_caches", rowId: owner.id, field: "msal_cache" });

/**
 * Everything that decides where a token goes and which secret made it: the sign-in method, login,
 * both IDs, cloud and authority, every server, port and TLS setting, and when the secret was last set.
 */
function tokenCacheFingerprint(settings: CheckSettings, authorityHost: string, secretSetAt: Date | null): string {
  const parts = [
    settings.signInMethod,
    settings.login.trim().toLowerCase(),
    settings.azureClientId?.toLowerCase(),
    settings.azureTenantId?.toLowerCase(),
    settings.cloud,
    authorityHost.toLowerCase(),
    settings.type,
    settings.smtpHost,
    settings.smtpPort,
    settings.imapHost,
    settings.imapPort,
    settings.useTls,
    secretSetAt?.getTime(),
  ];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/**
 * The sealed MSAL cache of a saved mailbox. A cache made for other settings is never read, and a
 * write lands only while the mailbox is still at the version the test started from: a save during
 * the test (new server, removed password) cannot be followed by the old token being written back.
 */
export function mailboxTokenCacheStore(
  db: Db,
  owner: Owner,
  settings: CheckSettings,
  authorityHost: string,
): TokenCacheStore {
  // The secret of the mailbox's method: a new one (or none) means a new cache.
  const fingerprint = tokenCacheFingerprint(settings, authorityHost, secretSetAt(owner));
  const context = tokenCacheContext(owner);
  return {
    async read() {
      // Read on every token the API hands out: prepared once.
      const row = (
        await preparedOnce(db, "tokenCacheOfMailbox", (q) =>
          q
            .select({ fingerprint: tokenCaches.fingerprint, cacheSealed: tokenCaches.cacheSealed })
            .from(tokenCaches)
            .where(eq(tokenCaches.mailboxId, sql.placeholder("id")))
            .prepare(),
        ).execute({ id: owner.id })
      )[0];
      if (!row || row.fingerprint !== fingerprint) return null;
      try {
        return open(row.cacheSealed, context);
      } catch {
        // Unreadable (retired key, tampering): start with an empty cache.
        return null;
      }
    },
    async write(serialized) {
      await transaction(db, async (tx) => {
        const current = (
          await tx
            .select({ id: mailboxes.id })
            .from(mailboxes)
            .where(and(eq(mailboxes.id, owner.id), eq(mailboxes.version, owner.version)))
        )[0];
        if (current) await putCache(tx, owner, fingerprint, serialized);
      });
    },
  };
}

/** When the secret behind the tokens was set: the password, the app credential, or the Microsoft sign-in. */
function secretSetAt(owner: Owner): Date | null {
  if (owner.signInMethod === "app") return owner.appCredentialChangedAt;
  if (owner.signInMethod === "device") return owner.signedInAt;
  return owner.passwordChangedAt;
}

/**
 * Stores the tokens of a finished Microsoft sign-in, inside the caller's transaction: the cache of the
 * mailbox at its new sign-in time, replacing whatever was there.
 */
export async function storeSignedInCache(
  tx: Queryable,
  owner: Owner,
  settings: CheckSettings,
  authorityHost: string,
  serialized: string,
): Promise<void> {
  await putCache(tx, owner, tokenCacheFingerprint(settings, authorityHost, secretSetAt(owner)), serialized);
}

/** The mailbox's one cache row, sealed, replacing whatever was there. */
async function putCache(tx: Queryable, owner: Owner, fingerprint: string, serialized: string): Promise<void> {
  const values = { fingerprint, cacheSealed: seal(serialized, tokenCacheContext(owner)), updatedAt: new Date() };
  await tx
    .insert(tokenCaches)
    .values({ mailboxId: owner.id, ...values })
    .onConflictDoUpdate({ target: tokenCaches.mailboxId, set: values });
}

export async function dropTokenCache(db: Queryable, mailboxId: number): Promise<void> {
  await db.delete(tokenCaches).where(eq(tokenCaches.mailboxId, mailboxId));
}
