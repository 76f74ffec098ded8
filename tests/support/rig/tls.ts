import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../temp";

export type RigTls = { dir: string; caPem: string; certPem: string; keyPem: string; ip: string };

/**
 * A server certificate for one more loopback address of its own, signed by the run's test CA: each
 * test file's rig listens on the real mail ports of its own address, so files can run in parallel.
 */
export function issueRigCertificate(ca: RigTls): RigTls {
  const dir = tempDir("navigator-rig-cert-");
  const ip = randomLoopback();
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  fs.writeFileSync(file("server.ext"), serverExtensions(ip));
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    ca.caPem,
    "-CAkey",
    path.join(ca.dir, "ca.key"),
    "-CAcreateserial",
    "-CAserial",
    file("ca.srl"),
    "-out",
    file("server.pem"),
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
  );
  fs.chmodSync(dir, 0o755);
  for (const name of ["server.key", "server.pem"]) fs.chmodSync(file(name), 0o644);
  return { dir, caPem: ca.caPem, certPem: file("server.pem"), keyPem: file("server.key"), ip };
}

/**
 * A test CA made at run time and one server certificate for localhost, 127.0.0.1 and the rig's own
 * loopback address. Processes trust the CA through NODE_EXTRA_CA_CERTS, exactly as an operator adds a company CA.
 */
export function createRigTls(): RigTls {
  const dir = tempDir("navigator-rig-tls-");
  // A loopback address of its own lets the rig listen on the real mail ports (465, 587, 143, 993).
  const ip = randomLoopback();
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  fs.writeFileSync(file("server.ext"), serverExtensions(ip));
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=Navigator Mail Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.pem"),
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
  );
  fs.chmodSync(dir, 0o755);
  for (const name of ["server.key", "server.pem", "ca.pem"]) fs.chmodSync(file(name), 0o644);
  return { dir, caPem: file("ca.pem"), certPem: file("server.pem"), keyPem: file("server.key"), ip };
}

export function rigTlsFromEnv(): RigTls {
  const dir = process.env.NAVIGATOR_RIG_TLS_DIR;
  const ip = process.env.NAVIGATOR_RIG_IP;
  if (!dir || !ip) throw new Error("the test rig's TLS material is missing: tests/support/global-setup.ts creates it");
  return {
    dir,
    caPem: path.join(dir, "ca.pem"),
    certPem: path.join(dir, "server.pem"),
    keyPem: path.join(dir, "server.key"),
    ip,
  };
}

function serverExtensions(ip: string): string {
  return `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:${ip}\n`;
}

function randomLoopback(): string {
  return `127.${rand(1, 254)}.${rand(1, 254)}.${rand(2, 253)}`;
}

function rand(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
