import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { SMTPServer } from "smtp-server";
import { tempDir } from "../temp";

/** Peers that misbehave the way real networks do, on a loopback address of their own. */

export function faultAddress(rigIp: string): string {
  const [a, b, c, d] = rigIp.split(".").map(Number);
  return `${a}.${b}.${c}.${d! >= 250 ? d! - 1 : d! + 1}`;
}

type Closable = { close(): Promise<void> };

function closable(server: net.Server): Closable {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  return {
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: net.Server, ip: string, port: number): Promise<Closable> {
  const handle = closable(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, ip, () => resolve());
  });
  return handle;
}

/** Accepts connections and never says a word. Counts the connections it saw. */
export async function silentPeer(ip: string, port: number): Promise<Closable & { connections: () => number }> {
  let count = 0;
  const server = net.createServer(() => count++);
  return { ...(await listen(server, ip, port)), connections: () => count };
}

/** A plain-text SMTP server (greets in clear, optionally without STARTTLS). */
export async function plainSmtpPeer(
  ip: string,
  port: number,
  offerStartTls: boolean,
  certDir?: string,
): Promise<Closable> {
  const server = new SMTPServer({
    secure: false,
    disabledCommands: offerStartTls ? ["AUTH"] : ["STARTTLS", "AUTH"],
    ...(certDir
      ? {
          key: fs.readFileSync(path.join(certDir, "server.key")),
          cert: fs.readFileSync(path.join(certDir, "server.pem")),
        }
      : {}),
    logger: false,
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(port, ip, () => resolve()));
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Speaks TLS from the first byte, with a certificate signed by no trusted CA. */
export async function untrustedTlsPeer(ip: string, port: number, greeting: string): Promise<Closable> {
  const dir = selfSignedCert(ip);
  const server = tls.createServer(
    { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) },
    (socket) => {
      socket.on("error", () => {});
      socket.write(greeting);
    },
  );
  return listen(server, ip, port);
}

/** Speaks TLS from the first byte with the rig's trusted certificate and then waits (a TLS port used for STARTTLS). */
export async function tlsOnlyPeer(ip: string, port: number, keyPem: string, certPem: string): Promise<Closable> {
  const server = tls.createServer({ key: fs.readFileSync(keyPem), cert: fs.readFileSync(certPem) }, (socket) =>
    socket.on("error", () => {}),
  );
  return listen(server, ip, port);
}

/**
 * A server that speaks only TLS 1.0 and 1.1 (as an old on-premises server or a TLS-inspecting proxy
 * may), with the rig's trusted certificate, and greets once the handshake is done.
 */
export async function oldTlsPeer(
  ip: string,
  port: number,
  keyPem: string,
  certPem: string,
  greeting: string,
): Promise<Closable> {
  const server = tls.createServer(
    {
      key: fs.readFileSync(keyPem),
      cert: fs.readFileSync(certPem),
      minVersion: "TLSv1",
      maxVersion: "TLSv1.1",
      ciphers: "DEFAULT@SECLEVEL=0",
    },
    (socket) => {
      socket.on("error", () => {});
      socket.write(greeting);
    },
  );
  server.on("tlsClientError", () => {});
  return listen(server, ip, port);
}

/**
 * A scripted IMAP server: Exchange's answers that Dovecot cannot give. With `startTls: false` it
 * offers no STARTTLS; otherwise it accepts AUTHENTICATE and refuses SELECT with BAD "User is
 * authenticated but not connected", as Exchange does for an identity without access to the mailbox.
 */
export async function scriptedImapPeer(ip: string, port: number, options: { startTls: boolean }): Promise<Closable> {
  const capabilities = `IMAP4rev1 AUTH=XOAUTH2 AUTH=PLAIN${options.startTls ? " STARTTLS" : ""}`;
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.write(`* OK [CAPABILITY ${capabilities}] The Microsoft Exchange IMAP4 service is ready.\r\n`);
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (let index = buffer.indexOf("\r\n"); index >= 0; index = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        const [tag, command = ""] = line.split(" ");
        const verb = command.toUpperCase();
        if (verb === "CAPABILITY") socket.write(`* CAPABILITY ${capabilities}\r\n${tag} OK CAPABILITY completed.\r\n`);
        else if (verb === "AUTHENTICATE" || verb === "LOGIN") socket.write(`${tag} OK AUTHENTICATE completed.\r\n`);
        else if (verb === "LOGOUT")
          socket.end(`* BYE Microsoft Exchange Server IMAP4 server signing off.\r\n${tag} OK LOGOUT completed.\r\n`);
        else if (["SELECT", "EXAMINE", "LIST", "STATUS"].includes(verb))
          socket.write(`${tag} BAD User is authenticated but not connected.\r\n`);
        else if (tag) socket.write(`${tag} OK ${verb} completed.\r\n`);
      }
    });
  });
  return listen(server, ip, port);
}

function selfSignedCert(ip: string): string {
  const dir = tempDir("navigator-untrusted-");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      path.join(dir, "key.pem"),
      "-out",
      path.join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=untrusted",
      "-addext",
      `subjectAltName=IP:${ip}`,
    ],
    { stdio: "ignore" },
  );
  return dir;
}
