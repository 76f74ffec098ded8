import type { ClaimsExpectation } from "./credentials";
import { type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";

// Entra sometimes puts the resource's application id in aud instead of its URL: Exchange Online's, Graph's.
const EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000";
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

type TokenClaims = {
  aud?: string;
  scp?: string;
  roles?: string[];
  upn?: string;
  unique_name?: string;
  preferred_username?: string;
  exp?: number;
  tid?: string;
  /** The object ID of the user, or of the app's service principal in an app-only token. */
  oid?: string;
  /** The user's directory roles, as role template IDs. */
  wids?: string[];
  /** 1 for a guest from another organisation. */
  acct?: number;
};

/** Reads the payload without verifying the signature: the servers verify; this only explains. */
export function decodeClaims(token: string): TokenClaims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    return null;
  }
}

const MISSING: Record<string, DiagnosisCode> = {
  "SMTP.Send": "CLAIM_SMTP_SCOPE",
  "IMAP.AccessAsUser.All": "CLAIM_IMAP_SCOPE",
  "SMTP.SendAsApp": "CLAIM_APP_ROLE",
  "IMAP.AccessAsApp": "CLAIM_APP_ROLE",
  "Mail.Send": "CLAIM_GRAPH_SEND",
  "Mail.ReadWrite": "CLAIM_GRAPH_READ",
  "Mail.Send.Shared": "CLAIM_GRAPH_SEND",
  "Mail.ReadWrite.Shared": "CLAIM_GRAPH_READ",
};

type Verdict = { ok: true; summary: string; tid: string | undefined } | { ok: false; diagnosis: Diagnosis };

/**
 * Explains a token the servers would refuse: wrong audience, missing permission (delegated `scp` or
 * application `roles`), another user, expired.
 */
export function checkClaims(token: string, expect: ClaimsExpectation, now = Date.now()): Verdict {
  const claims = decodeClaims(token);
  if (!claims) return { ok: false, diagnosis: diagnose("CLAIM_MALFORMED") };
  const { resource } = expect;
  const graph = /graph/i.test(resource);
  const audiences = [resource, `${resource}/`, graph ? GRAPH_APP_ID : EXCHANGE_APP_ID];
  if (!claims.aud || !audiences.includes(claims.aud)) {
    const code = graph ? "CLAIM_GRAPH_AUDIENCE" : "CLAIM_AUDIENCE";
    return { ok: false, diagnosis: diagnose(code, `aud = ${claims.aud ?? "(none)"}; needed ${resource}`) };
  }
  const granted = expect.kind === "application" ? (claims.roles ?? []) : (claims.scp ?? "").split(" ").filter(Boolean);
  const wanted = expect.kind === "application" ? expect.roles : expect.scopes;
  const missing = wanted.find((permission) => !granted.includes(permission));
  if (missing) {
    const seen =
      expect.kind === "application" ? `roles = ${granted.join(" ") || "(none)"}` : `scp = ${claims.scp || "(none)"}`;
    return { ok: false, diagnosis: diagnose(MISSING[missing] ?? "CLAIM_SMTP_SCOPE", `${seen}; needed ${missing}`) };
  }
  const user = claims.upn ?? claims.unique_name ?? claims.preferred_username ?? "";
  if (expect.kind === "delegated" && user.toLowerCase() !== expect.user.toLowerCase()) {
    return { ok: false, diagnosis: diagnose("CLAIM_USER", `upn = ${user || "(none)"}, Login = ${expect.user}`) };
  }
  if (!claims.exp || claims.exp * 1000 <= now) {
    const exp = claims.exp ? new Date(claims.exp * 1000).toISOString() : "(none)";
    return { ok: false, diagnosis: diagnose("CLAIM_EXPIRED", `exp = ${exp}`) };
  }
  const minutes = Math.round((claims.exp * 1000 - now) / 60000);
  const validity = `valid for ${minutes} more minute${minutes === 1 ? "" : "s"}`;
  return expect.kind === "application"
    ? { ok: true, summary: `App-only, roles ${granted.join(" ")}, ${validity}`, tid: claims.tid }
    : { ok: true, summary: `For ${user}, scopes ${granted.join(" ")}, ${validity}`, tid: claims.tid };
}
