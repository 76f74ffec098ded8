import "server-only";
import {
  type AuthenticationResult,
  ConfidentialClientApplication,
  type Configuration,
  type ICachePlugin,
  LogLevel,
  type NodeAuthOptions,
  PublicClientApplication,
} from "@azure/msal-node";
import type { AcquireRequest, AcquireResult, ClaimsExpectation, TokenSource } from "./credentials";
import { TimedHttpClient } from "./http-client";

export const TOKEN_TIMEOUT_MS = 15_000;

/** MSAL's configuration for one check: our timed network client, the caller's cache store, no discovery. */
function configFor(request: AcquireRequest, http: TimedHttpClient): Configuration {
  const authority = `${request.authorityHost}/${request.settings.azureTenantId}`;
  return {
    auth: {
      clientId: request.settings.azureClientId ?? "",
      authority,
      knownAuthorities: [new URL(request.authorityHost).host],
      authorityMetadata: JSON.stringify(authorityMetadata(authority)),
    },
    cache: request.cache ? { cachePlugin: cachePlugin(request) } : undefined,
    system: {
      networkClient: http,
      loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => {} },
    },
  };
}

/** A public client (password grant, device code) for one check. */
export function publicClientFor<H extends TimedHttpClient = TimedHttpClient>(
  request: AcquireRequest,
  http: H = new TimedHttpClient(request.timeoutMs ?? TOKEN_TIMEOUT_MS) as H,
): { app: PublicClientApplication; http: H } {
  return { app: new PublicClientApplication(configFor(request, http)), http };
}

/** A confidential client (app-only) for one check, proving itself with a secret or a certificate. */
export function confidentialClientFor(
  request: AcquireRequest,
  credential: Pick<NodeAuthOptions, "clientSecret" | "clientCertificate">,
): { app: ConfidentialClientApplication; http: TimedHttpClient } {
  const http = new TimedHttpClient(request.timeoutMs ?? TOKEN_TIMEOUT_MS);
  const config = configFor(request, http);
  return { app: new ConfidentialClientApplication({ ...config, auth: { ...config.auth, ...credential } }), http };
}

/** The account's token without a grant: from the cache, or renewed with its refresh token. */
export async function acquireSilently(
  app: PublicClientApplication,
  login: string,
  scopes: string[],
): Promise<{ result?: AuthenticationResult; error?: unknown }> {
  const accounts = await app.getTokenCache().getAllAccounts();
  const account = accounts.find((a) => a.username.toLowerCase() === login.toLowerCase());
  if (!account) return {};
  try {
    return { result: await app.acquireTokenSilent({ account, scopes }) };
  } catch (error) {
    // Refresh refused (revoked, expired): the caller decides whether a grant may follow.
    return { error };
  }
}

export function tokenFrom(
  result: AuthenticationResult,
  source: TokenSource,
  requests: number,
  identity: { xoauth2User: string; expect: ClaimsExpectation },
): AcquireResult {
  return {
    ok: true,
    accessToken: result.accessToken,
    expiresOn: result.expiresOn ?? null,
    source,
    requests,
    ...identity,
  };
}

function cachePlugin(request: AcquireRequest): ICachePlugin {
  const store = request.cache!;
  return {
    async beforeCacheAccess(context) {
      const serialized = await store.read();
      if (!serialized) return;
      try {
        context.tokenCache.deserialize(serialized);
      } catch {
        // Unreadable: start with an empty cache.
      }
    },
    async afterCacheAccess(context) {
      if (!context.cacheHasChanged) return;
      await request.beforeCacheWrite?.();
      await store.write(context.tokenCache.serialize());
    },
  };
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
