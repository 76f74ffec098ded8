import "server-only";
import { classifyTokenError } from "./classify-token";
import type { ClaimsExpectation, CredentialProvider } from "./credentials";
import { diagnose } from "./diagnoses";
import { acquireSilently, publicClientFor, tokenFrom } from "./msal";
import { accessFor, type CheckSettings } from "./settings";

/** One audience per request (Outlook, or Graph for the Graph transport): Entra refuses mixed resources. */
export function scopesFor(settings: Pick<CheckSettings, "type" | "transport" | "cloud">): string[] {
  const { resource, scopes } = accessFor(settings);
  return scopes.map((scope) => `${resource}/${scope}`);
}

/**
 * The setup guide's method, the resource-owner password grant (public client flows on): a token from
 * the cache when still valid, renewed with the refresh token when expired, and only then one grant
 * with the password. A refused password grant is never retried.
 */
export const passwordGrant: CredentialProvider = {
  grantLabel: "with the password grant",
  async acquire(request) {
    const { settings } = request;
    const { app, http } = publicClientFor(request);
    const scopes = scopesFor(settings);
    const identity = { xoauth2User: settings.login, expect: delegated(settings) };

    const silent = await acquireSilently(app, settings.login, scopes);
    if (silent.result)
      return tokenFrom(silent.result, http.requests === 0 ? "cache" : "refresh", http.requests, identity);

    if (!settings.password) {
      // Without a password the refresh token was the only way: say why it was refused (revoked, expired).
      const diagnosis = silent.error ? classifyTokenError(silent.error, http.lastError, []) : diagnose("NO_PASSWORD");
      return { ok: false, diagnosis, requests: http.requests };
    }
    try {
      const result = await app.acquireTokenByUsernamePassword({
        scopes,
        username: settings.login,
        password: settings.password,
      });
      if (!result?.accessToken) {
        return {
          ok: false,
          diagnosis: diagnose("UNEXPECTED", "no access token in the answer"),
          requests: http.requests,
        };
      }
      return tokenFrom(result, "grant", http.requests, identity);
    } catch (error) {
      return {
        ok: false,
        diagnosis: classifyTokenError(error, http.lastError, [settings.password]),
        requests: http.requests,
      };
    }
  },
};

export function delegated(settings: CheckSettings): ClaimsExpectation {
  const { resource, scopes } = accessFor(settings);
  return { kind: "delegated", scopes, resource, user: settings.login };
}
