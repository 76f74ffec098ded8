import type { ClaimsExpectation } from "./credentials";
import { type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";
import { CLOUD_PROFILES, type Cloud } from "./settings";

// Exchange Online's application id: Entra sometimes puts it in aud instead of the resource URL.
const EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000";

type TokenClaims = {
  aud?: string;
  scp?: string;
  upn?: string;
  unique_name?: string;
  preferred_username?: string;
  exp?: number;
  tid?: string;
};

/** Reads the payload without verifying the signature: the servers verify; this only explains. */
function decodeClaims(token: string): TokenClaims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    return null;
  }
}

const MISSING_SCOPE: Record<string, DiagnosisCode> = {
  "SMTP.Send": "CLAIM_SMTP_SCOPE",
  "IMAP.AccessAsUser.All": "CLAIM_IMAP_SCOPE",
};

type Verdict = { ok: true; summary: string } | { ok: false; diagnosis: Diagnosis };

/** Explains a token the servers would refuse: wrong audience, missing permission, other user, expired. */
export function checkClaims(token: string, expect: ClaimsExpectation, cloud: Cloud, now = Date.now()): Verdict {
  const claims = decodeClaims(token);
  if (!claims) return { ok: false, diagnosis: diagnose("CLAIM_MALFORMED") };
  const resource = CLOUD_PROFILES[cloud].outlookResource;
  const audiences = [resource, `${resource}/`, EXCHANGE_APP_ID];
  if (!claims.aud || !audiences.includes(claims.aud)) {
    return { ok: false, diagnosis: diagnose("CLAIM_AUDIENCE", `aud = ${claims.aud ?? "(none)"}`) };
  }
  const scopes = (claims.scp ?? "").split(" ").filter(Boolean);
  const missing = expect.scopes.find((scope) => !scopes.includes(scope));
  if (missing)
    return {
      ok: false,
      diagnosis: diagnose(MISSING_SCOPE[missing] ?? "CLAIM_SMTP_SCOPE", `scp = ${claims.scp || "(none)"}`),
    };
  const user = claims.upn ?? claims.unique_name ?? claims.preferred_username ?? "";
  if (user.toLowerCase() !== expect.user.toLowerCase()) {
    return { ok: false, diagnosis: diagnose("CLAIM_USER", `upn = ${user || "(none)"}, Login = ${expect.user}`) };
  }
  if (!claims.exp || claims.exp * 1000 <= now) {
    const exp = claims.exp ? new Date(claims.exp * 1000).toISOString() : "(none)";
    return { ok: false, diagnosis: diagnose("CLAIM_EXPIRED", `exp = ${exp}`) };
  }
  const minutes = Math.round((claims.exp * 1000 - now) / 60000);
  return {
    ok: true,
    summary: `For ${user}, scopes ${scopes.join(" ")}, valid for ${minutes} more minute${minutes === 1 ? "" : "s"}`,
  };
}
