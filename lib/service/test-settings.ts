import "server-only";
import { z } from "zod";
import type { Db } from "@/db/client";
import type { Mailbox } from "@/db/schema";
import type { Actor } from "@/lib/auth/actor";
import { open } from "@/lib/crypto/seal";
import type { CheckOptions } from "@/lib/engine/run-checks";
import { type AppCredential, authorityHostFor, type CheckSettings } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { appSecretContext, openMailboxPassword } from "@/lib/mailbox/password";
import { settingsRow } from "@/lib/mailbox/save";
import { type MailboxSettings, mailboxSettingsSchema } from "@/lib/mailbox/schema";
import { secretMustBeRetyped } from "@/lib/mailbox/secret-rule";
import { mailboxTokenCacheStore } from "@/lib/mailbox/token-cache-store";
import { admitDirectory, loginDomain } from "@/lib/tenants/directories";
import type { Refusal } from "./refusals";

/** A stored mailbox as the engine sees it; a secret that cannot be decrypted counts as none. */
export function checkSettingsFor(mailbox: Mailbox): CheckSettings {
  const password = readable(() => openMailboxPassword(mailbox));
  return { ...engineSettings(mailbox), password, appCredential: storedAppCredential(mailbox) };
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
  const input = parsed.data;
  const row = settingsRow(input);
  const retype = secretMustBeRetyped(mailbox, row, input);
  if (retype) {
    return {
      ok: false,
      refusal: { kind: "invalid", message: retype.message, fieldErrors: { [retype.field]: [retype.message] } },
    };
  }
  const stored = checkSettingsFor(mailbox);
  const sameMethod = input.signInMethod === mailbox.signInMethod;
  const password = input.password ?? (input.clearPassword || !sameMethod ? null : stored.password);
  const appCredential = typedAppCredential(input) ?? (sameMethod ? stored.appCredential : null);
  return { ok: true, settings: { ...engineSettings(row), password, appCredential } };
}

/**
 * Options from configuration. For a mailbox, a token must come from the tenant's Microsoft
 * organisation (the first one fills an empty list, under `actor`); its saved settings (`cache`) also
 * get the mailbox's sealed token cache.
 */
export function checkOptionsFor(
  settings: CheckSettings,
  at?: { db: Db; mailbox: Mailbox; actor: Actor; cache: boolean },
): CheckOptions {
  const env = getEnv();
  const authorityHost = authorityHostFor(settings, env.ENTRA_AUTHORITY_HOST);
  const graphHost = env.ENTRA_GRAPH_HOST;
  if (!at) return { authorityHost, graphHost, allowlist: env.MAIL_ALLOW_PRIVATE };
  const tokenCache = at.cache ? mailboxTokenCacheStore(at.db, at.mailbox, settings, authorityHost) : undefined;
  return {
    authorityHost,
    graphHost,
    allowlist: env.MAIL_ALLOW_PRIVATE,
    tokenCache,
    admitDirectory: async (tid) => admitTokenDirectory(at.db, at.actor, at.mailbox.tenantId, settings, tid),
  };
}

/** Whether a token for these settings, issued by `tid`, may serve a mailbox of this tenant (see `admitDirectory`). */
async function admitTokenDirectory(
  db: Db,
  actor: Actor,
  tenantId: number,
  settings: Pick<CheckSettings, "login" | "azureTenantId">,
  tid: string | undefined,
): Promise<boolean> {
  return admitDirectory(db, actor, tenantId, {
    tid,
    domains: [loginDomain(settings.login), settings.azureTenantId],
  });
}

/** The settings without secrets. */
function engineSettings(source: Omit<ReturnType<typeof settingsRow>, "name">): Omit<CheckSettings, "password"> {
  const {
    type,
    transport,
    login,
    mailboxAddress,
    sendAs,
    smtpHost,
    smtpPort,
    imapHost,
    imapPort,
    useTls,
    azureClientId,
    azureTenantId,
    cloud,
    signInMethod,
  } = source;
  return {
    type,
    transport,
    login,
    mailboxAddress,
    sendAs,
    smtpHost,
    smtpPort,
    imapHost,
    imapPort,
    useTls,
    azureClientId,
    azureTenantId,
    cloud,
    signInMethod,
  };
}

function storedAppCredential(mailbox: Mailbox): AppCredential | null {
  if (mailbox.clientSecretSealed) {
    const secret = readable(() => open(mailbox.clientSecretSealed!, appSecretContext(mailbox, "client_secret")));
    return secret ? { kind: "secret", secret } : null;
  }
  if (mailbox.certificatePem && mailbox.privateKeySealed) {
    const privateKeyPem = readable(() => open(mailbox.privateKeySealed!, appSecretContext(mailbox, "private_key")));
    return privateKeyPem ? { kind: "certificate", certificatePem: mailbox.certificatePem, privateKeyPem } : null;
  }
  return null;
}

function typedAppCredential(input: MailboxSettings): AppCredential | null {
  if (input.signInMethod !== "app") return null;
  if (input.clientSecret) return { kind: "secret", secret: input.clientSecret };
  if (input.certificatePem && input.privateKeyPem) {
    return { kind: "certificate", certificatePem: input.certificatePem, privateKeyPem: input.privateKeyPem };
  }
  return null;
}

function readable(read: () => string | null): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}
