const JWT = /\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: \u0001 separates the fields of a SASL XOAUTH2 response.
const BEARER = /(Bearer\s+|auth=Bearer\s*)[^\s\u0001"']+/gi;
// A base64 blob long enough to be a SASL XOAUTH2 or PLAIN response.
const SASL_BLOB = /\b(AUTH(?:ENTICATE)?\s+(?:XOAUTH2|OAUTHBEARER|PLAIN|LOGIN)\s+)[A-Za-z0-9+/=]{16,}/gi;
const REFRESH = /("?refresh_token"?\s*[:=]\s*"?)[^"&\s]+/gi;
const PASSWORD_PARAM = /("?password"?\s*[:=]\s*"?)[^"&\s]+/gi;

/** Removes tokens and the given secrets from a server reply before it is stored or shown. */
export function redact(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text
    .replace(JWT, "[token]")
    .replace(BEARER, "$1[token]")
    .replace(SASL_BLOB, "$1[credentials]")
    .replace(REFRESH, "$1[token]")
    .replace(PASSWORD_PARAM, "$1[password]");
  for (const secret of secrets) {
    if (!secret || secret.length < 3) continue;
    out = out.split(secret).join("[secret]");
    const b64 = Buffer.from(secret).toString("base64");
    if (b64.length >= 8) out = out.split(b64).join("[secret]");
  }
  return out.length > 2000 ? `${out.slice(0, 2000)}…` : out;
}
