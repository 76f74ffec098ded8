import "server-only";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/** How long a generated certificate is valid: the longest Entra recommends without a reminder being lost. */
const VALID_DAYS = 730;

export type GeneratedCertificate = { certificatePem: string; privateKeyPem: string; expiresAt: Date };

/**
 * A new RSA key pair and a self-signed certificate for an app registration. The key is made by Node's
 * crypto; node-forge only builds and signs the X.509 structure Node cannot write.
 */
export function generateCertificate(commonName: string, now = new Date()): GeneratedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial number: the first byte's high bit clear.
  certificate.serialNumber = `01${randomBytes(15).toString("hex")}`;
  const expiresAt = new Date(now.getTime() + VALID_DAYS * 86_400_000);
  certificate.validity.notBefore = new Date(now.getTime() - 60_000);
  certificate.validity.notAfter = expiresAt;
  const subject = [{ name: "commonName", value: commonName.slice(0, 64) }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, critical: true },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  // node-forge writes CRLF; everything else here (Node, openssl, the page) uses LF.
  const certificatePem = forge.pki.certificateToPem(certificate).replaceAll("\r\n", "\n");
  return { certificatePem, privateKeyPem: privateKey, expiresAt };
}
