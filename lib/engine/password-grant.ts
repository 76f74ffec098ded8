import "server-only";
import { classifyTokenError } from "./classify-token";
import type { ClaimsExpectation, CredentialProvider } from "./credentials";
import { diagnose } from "./diagnoses";
import { acquireSilently, publicClientFor, tokenFrom } from "./msal";
import { type CheckSettings, CLOUD_PROFILES, usesImap, usesSmtp } from "./settings";

/** One audience only (Outlook); Graph scopes must never share the request. */
export function scopesFor(settings: Pick<CheckSettings, "type" | "cloud">): string[] {
  const resource = CLOUD_PROFILES[settings.cloud].outlookResource;
  return [
    ...(usesSmtp(settings.type) ? [`${resource}/SMTP.Send`] : []),
    ...(usesImap(settings.type) ? [`${resource}/IMAP.AccessAsUser.All`] : []),
  ];
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
  const scopes = [
    ...(usesSmtp(settings.type) ? ["SMTP.Send"] : []),
    ...(usesImap(settings.type) ? ["IMAP.AccessAsUser.All"] : []),
  ];
  return { kind: "delegated", scopes, user: settings.login };
}
