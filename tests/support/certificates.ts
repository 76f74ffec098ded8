import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./temp";

export type KeyAndCertificate = { certificatePem: string; privateKeyPem: string };

/**
 * A key pair and a self-signed certificate made by openssl, as an administrator would upload them to the
 * app registration. A negative number of days gives a certificate that has already expired.
 */
export function keyAndCertificate(days = 30): KeyAndCertificate {
  const dir = tempDir("navigator-app-cert-");
  const key = path.join(dir, "key.pem");
  const csr = path.join(dir, "request.csr");
  const cert = path.join(dir, "cert.pem");
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  run([
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    "/CN=Navigator Mail test app",
  ]);
  run(["x509", "-req", "-in", csr, "-signkey", key, "-days", String(days), "-out", cert]);
  const pair = { certificatePem: fs.readFileSync(cert, "utf8"), privateKeyPem: fs.readFileSync(key, "utf8") };
  fs.rmSync(dir, { recursive: true, force: true });
  return pair;
}
