import "server-only";
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { ICachePlugin } from "@azure/msal-node";
import type { Db } from "@/db/client";
import { tokenCaches } from "@/db/schema";
import { open, seal, sealingContext } from "@/lib/crypto/seal";

type Owner = { mailboxId: number; tenantId: number };

export function tokenCacheFingerprint(parts: { login: string; clientId: string; tenantId: string; authority: string }): string {
  const text = [parts.login, parts.clientId, parts.tenantId, parts.authority].map((p) => p.trim().toLowerCase()).join("\n");
  return createHash("sha256").update(text).digest("hex");
}

/** MSAL's cache, sealed in the database per mailbox; a cache made for other sign-in settings is ignored. */
export function sealedTokenCache(db: Db, owner: Owner, fingerprint: string): ICachePlugin {
  const context = sealingContext({ tenantId: owner.tenantId, table: "token_caches", rowId: owner.mailboxId, field: "msal_cache" });
  return {
    async beforeCacheAccess(cacheContext) {
      const row = db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, owner.mailboxId)).get();
      if (!row || row.fingerprint !== fingerprint) return;
      try {
        cacheContext.tokenCache.deserialize(open(row.cacheSealed, context));
      } catch {
        // Unreadable (rotated key, tampering): start with an empty cache.
      }
    },
    async afterCacheAccess(cacheContext) {
      if (!cacheContext.cacheHasChanged) return;
      const values = { fingerprint, cacheSealed: seal(cacheContext.tokenCache.serialize(), context), updatedAt: new Date() };
      db.insert(tokenCaches)
        .values({ mailboxId: owner.mailboxId, ...values })
        .onConflictDoUpdate({ target: tokenCaches.mailboxId, set: values })
        .run();
    },
  };
}

export function dropTokenCache(db: Pick<Db, "delete">, mailboxId: number): void {
  db.delete(tokenCaches).where(eq(tokenCaches.mailboxId, mailboxId)).run();
}
