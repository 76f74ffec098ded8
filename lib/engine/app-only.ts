import "server-only";
import { X509Certificate } from "node:crypto";
import { classifyTokenError } from "./classify-token";
import type { ClaimsExpectation, CredentialProvider } from "./credentials";
import { diagnose } from "./diagnoses";
import { confidentialClientFor, tokenFrom } from "./msal";
import { type AppCredential, accessFor, identitiesOf } from "./settings";

/**
 * App-only access (client credentials): the app registration signs in as itself with a client secret or
 * a certificate, for `<Exchange resource>/.default`. Exchange then needs the app's service principal and a
 * permission on the mailbox; the XOAUTH2 user is the mailbox itself. MSAL keeps the app token in the cache.
 */
export const appOnly: CredentialProvider = {
  grantLabel: "with the client credentials grant (app-only)",
  async acquire(request) {
    const { settings } = request;
    const credential = settings.appCredential;
    if (!credential) return { ok: false, diagnosis: diagnose("NO_APP_CREDENTIAL"), requests: 0 };
    const { app, http } = confidentialClientFor(request, msalCredential(credential));
    const { appResource: resource, roles } = accessFor(settings);
    const expect: ClaimsExpectation = { kind: "application", roles, resource };
    const identity = { xoauth2User: identitiesOf(settings).mailbox, expect };
    const secrets = credential.kind === "secret" ? [credential.secret] : [];
    try {
      const result = await app.acquireTokenByClientCredential({ scopes: [`${resource}/.default`] });
      if (!result?.accessToken) {
        return {
          ok: false,
          diagnosis: diagnose("UNEXPECTED", "no access token in the answer"),
          requests: http.requests,
        };
      }
      return tokenFrom(result, http.requests === 0 ? "cache" : "grant", http.requests, identity);
    } catch (error) {
      return { ok: false, diagnosis: classifyTokenError(error, http.lastError, secrets), requests: http.requests };
    }
  },
};

function msalCredential(credential: AppCredential) {
  if (credential.kind === "secret") return { clientSecret: credential.secret };
  const certificate = new X509Certificate(credential.certificatePem);
  return {
    clientCertificate: {
      // MSAL signs the client assertion and names the certificate with x5t#S256.
      thumbprintSha256: certificate.fingerprint256.replaceAll(":", "").toLowerCase(),
      privateKey: credential.privateKeyPem,
      // The public certificate travels with the assertion (x5c), as Entra's subject-name validation expects.
      x5c: credential.certificatePem,
    },
  };
}
