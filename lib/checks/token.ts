import "server-only";
import { LogLevel, PublicClientApplication, type AuthenticationResult, type ICachePlugin } from "@azure/msal-node";
import { CLOUD_PROFILES } from "@/lib/mailbox/presets";
import { usesImap, usesSmtp } from "@/lib/mailbox/fields";
import { classifyTokenError } from "./classify-token";
import { diagnose } from "./diagnoses";
import { TimedHttpClient } from "./http-client";
import type { CheckSettings, Diagnosis } from "./types";

export const TOKEN_TIMEOUT_MS = 15_000;

export type TokenSource = "cache" | "refresh" | "password";
export type TokenResult =
  | { ok: true; accessToken: string; source: TokenSource; requests: number; expiresOn: Date | null }
  | { ok: false; diagnosis: Diagnosis; requests: number };

export function authorityHostFor(settings: Pick<CheckSettings, "cloud">, override?: string): string {
  return (override ?? CLOUD_PROFILES[settings.cloud].authorityHost).replace(/\/+$/, "");
}

/** One audience only (Outlook); Graph scopes must never share the request. */
export function scopesFor(settings: Pick<CheckSettings, "type" | "cloud">): string[] {
  const resource = CLOUD_PROFILES[settings.cloud].outlookResource;
  return [...(usesSmtp(settings.type) ? [`${resource}/SMTP.Send`] : []), ...(usesImap(settings.type) ? [`${resource}/IMAP.AccessAsUser.All`] : [])];
}

/**
 * A token for the mailbox user: from the cache when still valid, renewed with the refresh token when
 * expired, and only then with the password grant. A refused password grant is never retried.
 */
export async function acquireMailboxToken(
  settings: CheckSettings,
  options: { authorityHost: string; cachePlugin?: ICachePlugin; timeoutMs?: number },
): Promise<TokenResult> {
  const clientId = settings.azureClientId!;
  const tenant = settings.azureTenantId!;
  const http = new TimedHttpClient(options.timeoutMs ?? TOKEN_TIMEOUT_MS);
  const authority = `${options.authorityHost}/${tenant}`;
  const app = new PublicClientApplication({
    auth: {
      clientId,
      authority,
      knownAuthorities: [new URL(options.authorityHost).host],
      authorityMetadata: JSON.stringify(authorityMetadata(authority)),
    },
    cache: options.cachePlugin ? { cachePlugin: options.cachePlugin } : undefined,
    system: { networkClient: http, loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => {} } },
  });
  const scopes = scopesFor(settings);

  const silent = await silently(app, settings.login, scopes);
  if (silent.result) return success(silent.result, http.requests === 0 ? "cache" : "refresh", http.requests);

  if (!settings.password) {
    // Without a password the refresh token was the only way: say why it was refused (revoked, expired).
    const diagnosis = silent.error ? classifyTokenError(silent.error, http.lastError, []) : diagnose("NO_PASSWORD");
    return { ok: false, diagnosis, requests: http.requests };
  }
  try {
    const result = await app.acquireTokenByUsernamePassword({ scopes, username: settings.login, password: settings.password });
    if (!result?.accessToken) return { ok: false, diagnosis: diagnose("UNEXPECTED", "no access token in the answer"), requests: http.requests };
    return success(result, "password", http.requests);
  } catch (error) {
    return { ok: false, diagnosis: classifyTokenError(error, http.lastError, [settings.password]), requests: http.requests };
  }
}

async function silently(app: PublicClientApplication, login: string, scopes: string[]): Promise<{ result?: AuthenticationResult; error?: unknown }> {
  const accounts = await app.getTokenCache().getAllAccounts();
  const account = accounts.find((a) => a.username.toLowerCase() === login.toLowerCase());
  if (!account) return {};
  try {
    return { result: await app.acquireTokenSilent({ account, scopes }) };
  } catch (error) {
    // Refresh refused (revoked, expired): the caller falls back to one password grant.
    return { error };
  }
}

function success(result: AuthenticationResult, source: TokenSource, requests: number): TokenResult {
  return { ok: true, accessToken: result.accessToken, source, requests, expiresOn: result.expiresOn ?? null };
}

/** Given up front so MSAL needs no discovery round trip; the endpoints are Entra's fixed layout. */
function authorityMetadata(authority: string) {
  return {
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
  };
}
