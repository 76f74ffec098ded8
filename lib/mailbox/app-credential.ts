import "server-only";
import { createPrivateKey, X509Certificate } from "node:crypto";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What is wrong with a typed client secret, in the words of the app registration's page; null when usable. */
export function clientSecretError(secret: string): string | null {
  if (secret.trim() !== secret) {
    return "The client secret has spaces around it, which are not part of a secret: remove them and save again.";
  }
  if (GUID.test(secret)) {
    return "This is the secret's ID (a GUID). Paste its Value instead: Certificates & secrets shows it once, when the secret is created.";
  }
  if (secret.length < 16) return "This is too short for a client secret: paste the whole Value.";
  return null;
}

export type CertificateCheck =
  | { ok: true; expiresAt: Date }
  | { ok: false; field: "certificatePem" | "privateKeyPem"; message: string };

/** A certificate and its private key as uploaded: both PEM, matching each other, and not expired. */
export function checkCertificate(certificatePem: string, privateKeyPem: string, now = Date.now()): CertificateCheck {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return {
      ok: false,
      field: "certificatePem",
      message: "This is not a PEM certificate (-----BEGIN CERTIFICATE----- …).",
    };
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    return {
      ok: false,
      field: "privateKeyPem",
      message: "This is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- …).",
    };
  }
  if (!certificate.checkPrivateKey(key)) {
    return { ok: false, field: "privateKeyPem", message: "This private key does not belong to the certificate above." };
  }
  const expiresAt = new Date(certificate.validTo);
  if (expiresAt.getTime() <= now) {
    return {
      ok: false,
      field: "certificatePem",
      message: `This certificate expired on ${expiresAt.toISOString().slice(0, 10)}.`,
    };
  }
  return { ok: true, expiresAt };
}
