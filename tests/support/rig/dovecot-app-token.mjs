// Dovecot's check of an app-only XOAUTH2 sign-in, run by the checkpassword passdb: Exchange accepts an
// app token for a mailbox when it is an Outlook token (RS256, the emulator's key and issuer) with the
// role IMAP.AccessAsApp, and the app's service principal (oid) has permission on that mailbox.
// Input on stdin: "user\0token\0"; prints the user and exits 0 when accepted, exits 1 otherwise.
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
  if (!config.issuers.includes(claims.iss) || claims.aud !== "https://outlook.office365.com") return false;
  if (!Array.isArray(claims.roles) || !claims.roles.includes("IMAP.AccessAsApp")) return false;
  const access = JSON.parse(fs.readFileSync(config.accessFile, "utf8"));
  return (access[claims.oid] ?? []).includes(user.toLowerCase());
}

let ok = false;
try {
  ok = accepted();
} catch {
  ok = false;
}
if (ok) process.stdout.write(user);
process.exit(ok ? 0 : 1);
