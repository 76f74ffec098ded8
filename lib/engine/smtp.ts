import "server-only";
import net from "node:net";
import nodemailer from "nodemailer";
import { classifyTransport, enhancedStatus } from "./classify-mail";
import { type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";
import { enableProtocolLine } from "./powershell";
import { redact } from "./redact";
import { SMTP_PORTS, usesSmtp } from "./settings";
import {
  type AuthKind,
  authKindOf,
  type Endpoint,
  type MailCredentials,
  type OutgoingMail,
  type SendResult,
  type SendTransport,
  type SignInResult,
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
  const transport = transportFor(target, credentials);
  try {
    await transport.verify();
    return { ok: true, response: "Signed in; no message sent (light test)" };
  } catch (error) {
    const secret = "accessToken" in credentials ? credentials.accessToken : credentials.password;
    return { ok: false, diagnosis: classifySmtpError(error, credentials, [secret]) };
  } finally {
    transport.close();
  }
}

function transportFor(target: Endpoint, credentials: MailCredentials) {
  const oauth = "accessToken" in credentials;
  return nodemailer.createTransport({
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
    auth: oauth
      ? { type: "OAuth2", user: credentials.user, accessToken: credentials.accessToken }
      : { user: credentials.user, pass: credentials.password },
    ...SMTP_TIMEOUTS,
    logger: false,
    debug: false,
  });
}

/** Sends one message over SMTP to the address the guard checked; a refusal comes back as a diagnosis. */
async function sendMessage(target: Endpoint, credentials: MailCredentials, mail: OutgoingMail): Promise<SendResult> {
  const oauth = "accessToken" in credentials;
  const transport = transportFor(target, credentials);
  try {
    const { messageId, replyTo, ...rest } = mail;
    const info = await transport.sendMail({
      ...rest,
      ...(replyTo?.length ? { replyTo } : {}),
      ...(messageId ? { messageId } : {}),
    });
    return { ok: true, acceptedAt: Date.now(), response: info.response };
  } catch (error) {
    return {
      ok: false,
      diagnosis: classifySmtpError(error, credentials, [oauth ? credentials.accessToken : credentials.password]),
    };
  } finally {
    transport.close();
  }
}

type SmtpError = { code?: string; responseCode?: number; response?: string; command?: string; message?: string };

function classifySmtpError(
  error: unknown,
  credentials: MailCredentials,
  secrets: readonly (string | null)[],
): Diagnosis {
  const transport = classifyTransport(error, secrets);
  const e = (error ?? {}) as SmtpError;
  const detail = redact([e.command && `${e.command}:`, e.response ?? e.message].filter(Boolean).join(" "), secrets);
  if (e.code === "ETLS" && e.command === "STARTTLS" && e.responseCode) return diagnose("TLS_NO_STARTTLS", detail);
  if (transport) return transport;
  const code = smtpCode(e, authKindOf(credentials));
  // Authenticated SMTP switched off for the mailbox: the line that switches it on, with its own address.
  return diagnose(
    code,
    detail,
    code === "SMTP_AUTH_DISABLED" ? enableProtocolLine(credentials.user, "smtp") : undefined,
  );
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
