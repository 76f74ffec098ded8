import { type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";
import { redact } from "./redact";

type TransportError = { code?: string; originalCode?: string; timeoutType?: string; message?: string };

const TRANSPORT: Record<string, DiagnosisCode> = {
  ECONNREFUSED: "CONNECTION_REFUSED",
  EHOSTUNREACH: "CONNECTION_REFUSED",
  ENETUNREACH: "CONNECTION_REFUSED",
  ENOTFOUND: "DNS_NOT_FOUND",
  EAI_AGAIN: "DNS_NOT_FOUND",
  EDNS: "DNS_NOT_FOUND",
  CONNECT_TIMEOUT: "CONNECTION_TIMEOUT",
  GREETING_TIMEOUT: "NO_GREETING",
  UPGRADE_TIMEOUT: "TLS_MISMATCH",
  ETIMEOUT: "SOCKET_TIMEOUT",
  ClosedAfterConnectTLS: "TLS_MISMATCH",
  ERR_SSL_WRONG_VERSION_NUMBER: "TLS_MISMATCH",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "TLS_MISMATCH",
  // The server offers nothing from TLS 1.2 up (its alert, or OpenSSL's own refusal).
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "TLS_OUTDATED",
  ERR_SSL_UNSUPPORTED_PROTOCOL: "TLS_OUTDATED",
  EPROTO: "TLS_MISMATCH",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS_CERTIFICATE",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS_CERTIFICATE",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS_CERTIFICATE",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS_CERTIFICATE",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS_CERTIFICATE",
  CERT_HAS_EXPIRED: "TLS_CERTIFICATE",
  CERT_NOT_YET_VALID: "TLS_CERTIFICATE",
};

// nodemailer's STARTTLS upgrade wraps the TLS error into its message; these are OpenSSL's and Node's codes.
const CODE_IN_MESSAGE = new RegExp(
  `\\b(${Object.keys(TRANSPORT)
    .filter((k) => /^[A-Z_]+$/.test(k) && k.length > 6)
    .join("|")})\\b`,
);
const CERT_MESSAGE = /certificate|self[- ]signed|altnames/i;

/** Connection, DNS and TLS failures, shared by SMTP and IMAP; null when the failure is not of that kind. */
export function classifyTransport(error: unknown, secrets: readonly (string | null)[]): Diagnosis | null {
  const e = (error ?? {}) as TransportError;
  const detail = redact([e.originalCode ?? e.code, e.message].filter(Boolean).join(" "), secrets);
  for (const candidate of [e.timeoutType, e.originalCode, e.code]) {
    if (candidate && candidate in TRANSPORT) return diagnose(TRANSPORT[candidate]!, detail);
  }
  if (e.code === "ETIMEDOUT") return diagnose("CONNECTION_TIMEOUT", detail);
  if (e.code === "ETLS" || e.code === "ESOCKET" || e.code === "ECONNECTION") {
    const inMessage = CODE_IN_MESSAGE.exec(e.message ?? "")?.[1];
    if (inMessage) return diagnose(TRANSPORT[inMessage]!, detail);
    if (e.code === "ETLS" && CERT_MESSAGE.test(e.message ?? "")) return diagnose("TLS_CERTIFICATE", detail);
    if (e.code === "ETLS") return diagnose("TLS_MISMATCH", detail);
    if (e.originalCode === "ECONNRESET") return diagnose("TLS_MISMATCH", detail);
  }
  return null;
}

/** RFC 3463 enhanced status code (e.g. 5.7.139) from an SMTP reply. */
export function enhancedStatus(response: string | undefined): string | null {
  return /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(response ?? "")?.[1] ?? null;
}
