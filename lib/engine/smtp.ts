import "server-only";
import net from "node:net";
import MailComposer from "nodemailer/lib/mail-composer";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import XOAuth2 from "nodemailer/lib/xoauth2";
import { classifyTransport, enhancedStatus } from "./classify-mail";
import { type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";
import { aliasLines, enableProtocolLine, sendAsLines } from "./powershell";
import { redact } from "./redact";
import { SMTP_PORTS, sameAddress, usesSmtp } from "./settings";
import {
  type AuthKind,
  authKindOf,
  type Endpoint,
  type MailCredentials,
  type OutgoingMail,
  type SendResult,
  type SendTransport,
  type SignInResult,
  type TlsInfo,
  tlsOf,
} from "./transport";

const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

export const smtpTransport: SendTransport = {
  role: "send",
  label: "SMTP send",
  ports: SMTP_PORTS,
  usedBy: (settings) => settings.transport !== "graph" && usesSmtp(settings.type),
  server: (s) =>
    s.smtpHost && s.smtpPort
      ? { host: s.smtpHost, port: s.smtpPort }
      : { missing: "SMTP Server or SMTP Port is empty" },
  send: sendMessage,
  signIn: signInOnly,
};

/** Connects, upgrades to TLS and signs in (EHLO, AUTH), then quits without a message: the light test. */
async function signInOnly(target: Endpoint, credentials: MailCredentials): Promise<SignInResult> {
  const signedIn = await session(target, credentials, null, async () => "Signed in; no message sent (light test)");
  return signedIn.ok ? { ok: true, response: signedIn.value, tls: signedIn.tls } : signedIn;
}

/** Sends one message over SMTP to the address the guard checked; a refusal comes back as a diagnosis. */
async function sendMessage(target: Endpoint, credentials: MailCredentials, mail: OutgoingMail): Promise<SendResult> {
  const { messageId, replyTo, ...rest } = mail;
  const composed = new MailComposer({
    ...rest,
    ...(replyTo?.length ? { replyTo } : {}),
    ...(messageId ? { messageId } : {}),
  }).compile();
  const raw = await composed.build();
  const sent = await session(
    target,
    credentials,
    mail.from,
    (connection) =>
      new Promise<string>((resolve, reject) =>
        connection.send(composed.getEnvelope(), raw, (error, info) =>
          error ? reject(error) : resolve(info.response ?? ""),
        ),
      ),
  );
  return sent.ok ? { ok: true, acceptedAt: Date.now(), response: sent.value, tls: sent.tls } : sent;
}

/**
 * One SMTP session with nodemailer's connection: connect (TLS from the first byte, or STARTTLS), sign in,
 * do the work, quit. The negotiated TLS is read from the session's own socket.
 */
async function session<T>(
  target: Endpoint,
  credentials: MailCredentials,
  from: string | null,
  work: (connection: SMTPConnection) => Promise<T>,
): Promise<{ ok: true; value: T; tls?: TlsInfo } | { ok: false; diagnosis: Diagnosis }> {
  const connection = new SMTPConnection({
    host: target.address,
    port: target.port,
    secure: target.mode === "implicit",
    requireTLS: target.mode === "starttls",
    ignoreTLS: target.mode === "none",
    // Certificates are checked against the name the administrator entered, not the address.
    tls: {
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ...(net.isIP(target.host) ? {} : { servername: target.host }),
    },
    ...SMTP_TIMEOUTS,
    logger: false,
    debug: false,
  });
  // Every failure also arrives as an event: the first ends whichever step is waiting, and a late one
  // (after QUIT) still has a listener, so it cannot crash the process.
  const failed = new Promise<never>((_, reject) => connection.on("error", reject));
  failed.catch(() => {});
  const step = <R>(run: (done: (error: Error | null, value?: R) => void) => void) =>
    Promise.race([
      failed,
      new Promise<R>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as R)))),
    ]);
  try {
    await step<void>((done) => connection.connect(() => done(null)));
    const auth =
      "accessToken" in credentials
        ? {
            user: credentials.user,
            method: "XOAUTH2",
            oauth2: new XOAuth2({ user: credentials.user, accessToken: credentials.accessToken }),
          }
        : { user: credentials.user, credentials: { user: credentials.user, pass: credentials.password } };
    await step<boolean>((done) => connection.login(auth, (error, ok) => done(error, ok)));
    const tls = tlsOf(connection._socket);
    const value = await Promise.race([failed, work(connection)]);
    return { ok: true, value, ...(tls ? { tls } : {}) };
  } catch (error) {
    const secret = "accessToken" in credentials ? credentials.accessToken : credentials.password;
    return { ok: false, diagnosis: classifySmtpError(error, credentials, from, [secret]) };
  } finally {
    connection.quit();
  }
}

type SmtpError = { code?: string; responseCode?: number; response?: string; command?: string; message?: string };

function classifySmtpError(
  error: unknown,
  credentials: MailCredentials,
  from: string | null,
  secrets: readonly (string | null)[],
): Diagnosis {
  const transport = classifyTransport(error, secrets);
  const e = (error ?? {}) as SmtpError;
  const detail = redact([e.command && `${e.command}:`, e.response ?? e.message].filter(Boolean).join(" "), secrets);
  if (e.code === "ETLS" && e.command === "STARTTLS" && e.responseCode) return diagnose("TLS_NO_STARTTLS", detail);
  if (transport) return transport;
  const code = smtpCode(e, authKindOf(credentials));
  // Authenticated SMTP switched off for the mailbox: the line that switches it on, with its own address.
  if (code === "SMTP_AUTH_DISABLED") return diagnose(code, detail, enableProtocolLine(credentials.user, "smtp"));
  // Sending as another address than the one signed in (Send as): the permission, or the address itself.
  if (code === "SMTP_SEND_AS_DENIED" && from && !sameAddress(from, credentials.user)) {
    const lines = sendAsLines(from, credentials.user);
    return enhancedStatus(e.response) === "5.7.60"
      ? diagnose("SEND_AS_UNKNOWN", detail, [...aliasLines(credentials.mailbox, from), ...lines].join("\n"))
      : diagnose("SEND_AS_DENIED", detail, lines.join("\n"));
  }
  return diagnose(code, detail);
}

function smtpCode(e: SmtpError, auth: AuthKind): DiagnosisCode {
  const oauth = auth !== "password";
  const status = enhancedStatus(e.response);
  if (status === "5.2.252" || status === "5.7.60") return "SMTP_SEND_AS_DENIED";
  if (status === "5.7.30") return "SMTP_BASIC_AUTH_DISABLED";
  if (e.code === "EAUTH" || e.responseCode === 535) {
    if (status === "5.7.139") return oauth ? "SMTP_AUTH_DISABLED" : "SMTP_BASIC_AUTH_DISABLED";
    return {
      password: "SMTP_PASSWORD_REJECTED",
      "user-token": "SMTP_TOKEN_REJECTED",
      "app-token": "SMTP_APP_NOT_PERMITTED",
    }[auth] as DiagnosisCode;
  }
  if (e.responseCode && e.responseCode >= 400) return "SMTP_REFUSED";
  return "UNEXPECTED";
}
