import { CLOUD_PROFILES } from "@/lib/mailbox/presets";
import { usesImap, usesSmtp } from "@/lib/mailbox/fields";
import { diagnose } from "./diagnoses";
import type { CheckSettings, Diagnosis } from "./types";

// Exchange Online's application id: Entra sometimes puts it in aud instead of the resource URL.
const EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000";

export type TokenClaims = { aud?: string; scp?: string; upn?: string; unique_name?: string; preferred_username?: string; exp?: number; tid?: string };

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

export function checkClaims(token: string, settings: Pick<CheckSettings, "type" | "login" | "cloud">, now = Date.now()): { ok: true; summary: string } | { ok: false; diagnosis: Diagnosis } {
  const claims = decodeClaims(token);
  if (!claims) return { ok: false, diagnosis: diagnose("CLAIM_MALFORMED") };
  const resource = CLOUD_PROFILES[settings.cloud].outlookResource;
  const audiences = [resource, `${resource}/`, EXCHANGE_APP_ID];
  if (!claims.aud || !audiences.includes(claims.aud)) return { ok: false, diagnosis: diagnose("CLAIM_AUDIENCE", `aud = ${claims.aud ?? "(none)"}`) };
  const scopes = (claims.scp ?? "").split(" ").filter(Boolean);
  if (usesSmtp(settings.type) && !scopes.includes("SMTP.Send")) return { ok: false, diagnosis: diagnose("CLAIM_SMTP_SCOPE", `scp = ${claims.scp || "(none)"}`) };
  if (usesImap(settings.type) && !scopes.includes("IMAP.AccessAsUser.All")) return { ok: false, diagnosis: diagnose("CLAIM_IMAP_SCOPE", `scp = ${claims.scp || "(none)"}`) };
  const user = claims.upn ?? claims.unique_name ?? claims.preferred_username ?? "";
  if (user.toLowerCase() !== settings.login.toLowerCase()) return { ok: false, diagnosis: diagnose("CLAIM_USER", `upn = ${user || "(none)"}, Login = ${settings.login}`) };
  if (!claims.exp || claims.exp * 1000 <= now) return { ok: false, diagnosis: diagnose("CLAIM_EXPIRED", `exp = ${claims.exp ? new Date(claims.exp * 1000).toISOString() : "(none)"}`) };
  const minutes = Math.round((claims.exp * 1000 - now) / 60000);
  return { ok: true, summary: `For ${user}, scopes ${scopes.join(" ")}, valid for ${minutes} more minute${minutes === 1 ? "" : "s"}` };
}
