import fs from "node:fs";
import { importSPKI, jwtVerify } from "jose";
import nodemailer from "nodemailer";
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from "smtp-server";
import type { ExchangePermissions } from "./exchange-permissions";
import type { RigTls } from "./tls";

export type RelayOptions = {
  ip: string;
  tls: RigTls;
  lmtpPort: number;
  publicKeyPem: string;
  issuers: string[];
  passwords: Record<string, string>;
  /** Exchange's mailbox permissions of app-only service principals. */
  exchange: ExchangePermissions;
  /** Users for whom SMTP AUTH is switched off, as Exchange answers then. */
  smtpAuthDisabled?: Set<string>;
  /** Users whose password login is refused because basic authentication is off. */
  basicAuthDisabled?: Set<string>;
  /** Users who may not send as their own address (e.g. a mailbox Exchange blocks from sending). */
  sendAsDenied?: Set<string>;
};

type Reply = Error & { responseCode?: number };

const reply = (responseCode: number, message: string): Reply => Object.assign(new Error(message), { responseCode });

/**
 * An SMTP peer that behaves like Exchange Online where it matters: AUTH XOAUTH2 with a valid Outlook
 * token for the same user (535 5.7.3 otherwise), STARTTLS before AUTH, and real delivery of accepted
 * mail into Dovecot over LMTP.
 */
export class SmtpRelay {
  private servers: SMTPServer[] = [];
  readonly delivered: string[] = [];
  /** Every AUTH the peer received, with the port it came in on: what a server owner would see. */
  readonly authentications: { port: number; method: string; user: string }[] = [];
  /**
   * 0: the message is in the mailbox before the peer answers 250 (the default for tests). Above 0 the
   * peer answers "queued" at once and delivers this much later, as Exchange Online's transport does.
   */
  deliveryDelayMs = 0;

  constructor(private readonly options: RelayOptions) {}

  async start(listeners: { port: number; secure: boolean; startTls?: boolean }[]): Promise<this> {
    const key = await importSPKI(this.options.publicKeyPem, "RS256");
    for (const listener of listeners) {
      const server = new SMTPServer({
        secure: listener.secure,
        key: fs.readFileSync(this.options.tls.keyPem),
        cert: fs.readFileSync(this.options.tls.certPem),
        name: "rig.navigator.test",
        authMethods: ["XOAUTH2", "PLAIN", "LOGIN"],
        allowInsecureAuth: false,
        disabledCommands: listener.startTls === false ? ["STARTTLS"] : [],
        logger: false,
        onAuth: (auth, session, callback) => {
          this.authentications.push({ port: listener.port, method: auth.method, user: auth.username ?? "" });
          this.authenticate(auth, session, key).then(
            (user) => callback(null, { user }),
            (error: Reply) => callback(error),
          );
        },
        onMailFrom: (address, session, callback) => {
          const user = String(session.user);
          const how = this.options.exchange.sendsFrom(user, address.address);
          // An address no mailbox has is refused at once; a known one without Send As, as SendAsDenied.
          if (!how && !this.options.exchange.knows(address.address))
            return callback(reply(550, "5.7.60 SMTP; Client does not have permissions to send as this sender"));
          if (!how || (how === "self" && this.options.sendAsDenied?.has(user)))
            return callback(reply(554, `5.2.252 SendAsDenied; ${user} not allowed to send as ${address.address}`));
          callback();
        },
        onData: (stream, session, callback) => {
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            // Send on Behalf: Exchange names the one who sent in a Sender header.
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
            if (this.options.exchange.sendsFrom(String(session.user), from) === "on-behalf")
              chunks.unshift(Buffer.from(`Sender: ${session.user}\r\n`));
            if (this.deliveryDelayMs > 0) {
              const raw = Buffer.concat(chunks);
              const envelope = structuredClone(session.envelope);
              setTimeout(() => void this.deliver({ ...session, envelope }, raw).catch(() => {}), this.deliveryDelayMs);
              return callback(null);
            }
            this.deliver(session, Buffer.concat(chunks)).then(
              () => callback(null),
              (error: Error) => callback(reply(451, `4.3.0 delivery failed: ${error.message}`)),
            );
          });
        },
      });
      server.on("error", () => {});
      await new Promise<void>((resolve, reject) => {
        server.server.once("error", reject);
        server.listen(listener.port, this.options.ip, () => resolve());
      });
      this.servers.push(server);
    }
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private async authenticate(
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
    key: Awaited<ReturnType<typeof importSPKI>>,
  ): Promise<string> {
    const user = (auth.username ?? "").toLowerCase();
    if (this.options.smtpAuthDisabled?.has(user)) {
      throw reply(535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.");
    }
    if (auth.method === "XOAUTH2") {
      try {
        const { payload } = await jwtVerify(auth.accessToken ?? "", key, {
          audience: ["https://outlook.office.com", "https://outlook.office365.com"],
          issuer: this.options.issuers,
        });
        if (Array.isArray(payload.roles)) {
          const allowed = this.options.exchange.allows(String(payload.oid), user);
          if (payload.aud !== "https://outlook.office365.com" || !payload.roles.includes("SMTP.SendAsApp") || !allowed)
            throw new Error("app without permission");
          return user;
        }
        const scopes = String(payload.scp ?? "").split(" ");
        if (String(payload.upn ?? "").toLowerCase() !== user || !scopes.includes("SMTP.Send"))
          throw new Error("wrong user or scope");
        return user;
      } catch {
        throw reply(535, "5.7.3 Authentication unsuccessful");
      }
    }
    if (this.options.basicAuthDisabled?.has(user))
      throw reply(550, "5.7.30 Basic authentication is not supported for Client Submission.");
    if (this.options.passwords[user] !== undefined && this.options.passwords[user] === auth.password) return user;
    throw reply(535, "5.7.3 Authentication unsuccessful");
  }

  private async deliver(session: SMTPServerSession, raw: Buffer): Promise<void> {
    const lmtp = nodemailer.createTransport({
      host: this.options.ip,
      port: this.options.lmtpPort,
      lmtp: true,
      secure: false,
      ignoreTLS: true,
      logger: false,
    } as never);
    try {
      const to = session.envelope.rcptTo.map((r) => r.address);
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
      await lmtp.sendMail({ envelope: { from, to }, raw });
      this.delivered.push(...to);
    } finally {
      lmtp.close();
    }
  }
}
