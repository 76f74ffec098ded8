// Dovecot's check of an XOAUTH2 sign-in its oauth2 passdb cannot match to the user, run by the Lua
// passdb, as Exchange Online decides it:
// - an app-only token (RS256, the emulator's key and issuer, audience outlook.office365.com) with the
//   role IMAP.AccessAsApp, whose service principal (oid) has permission on the mailbox;
// - a user's token (audience outlook.office.com, scope IMAP.AccessAsUser.All) for a mailbox not its own,
//   where the user (upn) has FullAccess on that mailbox.
// Input on stdin: "user\0token\0"; exits 0 when accepted, 1 otherwise.
import { createPublicKey, verify } from "node:crypto";
import fs from "node:fs";

const [configFile] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
const [user = "", token = ""] = fs.readFileSync(0).toString("utf8").split("\0");

function accepted() {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) return false;
  const key = createPublicKey(config.publicKeyPem);
  const signed = Buffer.from(`${header}.${payload}`);
  if (!verify("RSA-SHA256", signed, key, Buffer.from(signature, "base64url"))) return false;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number" || claims.exp < now || (claims.nbf ?? 0) > now + 300) return false;
  if (!config.issuers.includes(claims.iss)) return false;
  const permissions = JSON.parse(fs.readFileSync(config.accessFile, "utf8"));
  const mailbox = user.toLowerCase();
  if (Array.isArray(claims.roles)) {
    if (claims.aud !== "https://outlook.office365.com" || !claims.roles.includes("IMAP.AccessAsApp")) return false;
    return (permissions.apps[claims.oid] ?? []).includes(mailbox);
  }
  if (claims.aud !== "https://outlook.office.com") return false;
  if (
    !String(claims.scp ?? "")
      .split(" ")
      .includes("IMAP.AccessAsUser.All")
  )
    return false;
  return (permissions.fullAccess[mailbox] ?? []).includes(String(claims.upn ?? "").toLowerCase());
}

let ok = false;
try {
  ok = accepted();
} catch {
  ok = false;
}
process.exit(ok ? 0 : 1);
