import "server-only";
import type { Db } from "@/db/client";
import type { Mailbox } from "@/db/schema";
import { getEnv } from "@/lib/env";
import { openMailboxPassword } from "@/lib/mailbox/password";
import type { CheckOptions } from "./run-check";
import { authorityHostFor } from "./token";
import { sealedTokenCache, tokenCacheFingerprint } from "./token-cache";
import type { CheckSettings } from "./types";

/** A stored mailbox as the check sees it; a password that cannot be decrypted counts as none. */
export function checkSettingsFor(mailbox: Mailbox): CheckSettings {
  let password: string | null = null;
  try {
    password = openMailboxPassword(mailbox);
  } catch {
    password = null;
  }
  return {
    mailboxId: mailbox.id,
    type: mailbox.type,
    login: mailbox.login,
    password,
    smtpHost: mailbox.smtpHost,
    smtpPort: mailbox.smtpPort,
    imapHost: mailbox.imapHost,
    imapPort: mailbox.imapPort,
    useTls: mailbox.useTls,
    azureClientId: mailbox.azureClientId,
    azureTenantId: mailbox.azureTenantId,
    cloud: mailbox.cloud,
  };
}

/** Options from configuration; a stored mailbox also gets its sealed token cache. */
export function checkOptionsFor(settings: CheckSettings, db?: Db, mailbox?: Pick<Mailbox, "id" | "tenantId">): CheckOptions {
  const env = getEnv();
  const authorityHost = authorityHostFor(settings, env.ENTRA_AUTHORITY_HOST);
  const cachePlugin =
    db && mailbox && settings.azureClientId && settings.azureTenantId
      ? sealedTokenCache(db, { mailboxId: mailbox.id, tenantId: mailbox.tenantId }, tokenCacheFingerprint({ login: settings.login, clientId: settings.azureClientId, tenantId: settings.azureTenantId, authority: authorityHost }))
      : undefined;
  return { authorityHost, allowlist: env.MAIL_ALLOW_PRIVATE, cachePlugin };
}
