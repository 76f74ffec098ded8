import "server-only";
import { z } from "zod";
import type { Db } from "@/db/client";
import type { Mailbox } from "@/db/schema";
import type { CheckOptions } from "@/lib/engine/run-checks";
import { authorityHostFor, type CheckSettings } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { openMailboxPassword } from "@/lib/mailbox/password";
import { settingsRow } from "@/lib/mailbox/save";
import { mailboxSettingsSchema } from "@/lib/mailbox/schema";
import { secretMustBeRetyped } from "@/lib/mailbox/secret-rule";
import { mailboxTokenCacheStore } from "@/lib/mailbox/token-cache-store";
import type { Refusal } from "./refusals";

/** A stored mailbox as the engine sees it; a password that cannot be decrypted counts as none. */
export function checkSettingsFor(mailbox: Mailbox): CheckSettings {
  let password: string | null = null;
  try {
    password = openMailboxPassword(mailbox);
  } catch {
    password = null;
  }
  const { type, login, smtpHost, smtpPort, imapHost, imapPort, useTls, azureClientId, azureTenantId, cloud } = mailbox;
  return { type, login, password, smtpHost, smtpPort, imapHost, imapPort, useTls, azureClientId, azureTenantId, cloud };
}

/** Unsaved form values, under the same secret rule as saving. */
export function settingsFromForm(
  mailbox: Mailbox,
  form: Record<string, string>,
): { ok: true; settings: CheckSettings } | { ok: false; refusal: Refusal } {
  const parsed = mailboxSettingsSchema.safeParse(form);
  if (!parsed.success) {
    const fieldErrors = z.flattenError(parsed.error).fieldErrors;
    return {
      ok: false,
      refusal: { kind: "invalid", message: "Correct the highlighted fields before testing these values.", fieldErrors },
    };
  }
  const row = settingsRow(parsed.data);
  const retype = secretMustBeRetyped(mailbox, row, parsed.data);
  if (retype) return { ok: false, refusal: { kind: "invalid", message: retype, fieldErrors: { password: [retype] } } };
  const typed = parsed.data.password ?? null;
  const password = typed ?? (parsed.data.clearPassword ? null : checkSettingsFor(mailbox).password);
  const { name: _name, ...settings } = row;
  return { ok: true, settings: { ...settings, password } };
}

/** Options from configuration; saved settings also get the mailbox's sealed token cache. */
export function checkOptionsFor(settings: CheckSettings, saved?: { db: Db; mailbox: Mailbox }): CheckOptions {
  const env = getEnv();
  const authorityHost = authorityHostFor(settings, env.ENTRA_AUTHORITY_HOST);
  const tokenCache = saved ? mailboxTokenCacheStore(saved.db, saved.mailbox, settings, authorityHost) : undefined;
  return { authorityHost, allowlist: env.MAIL_ALLOW_PRIVATE, tokenCache };
}
