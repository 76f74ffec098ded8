import "server-only";
import net from "node:net";
import { ImapFlow } from "imapflow";
import { decodeClaims } from "./claims";
import { classifyTransport } from "./classify-mail";
import { type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";
import { enableProtocolLine, fullAccessLine } from "./powershell";
import { redact } from "./redact";
import { IMAP_PORTS, usesImap } from "./settings";
import {
  type AuthKind,
  authKindOf,
  type Endpoint,
  type InboxWatcher,
  MARKER_HEADER,
  type MailCredentials,
  type OpenResult,
  opensOtherMailbox,
  type ReceiveTransport,
} from "./transport";

const IMAP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export const imapTransport: ReceiveTransport = {
  role: "receive",
  label: "IMAP receive",
  ports: IMAP_PORTS,
  budgetMs: 60_000,
  usedBy: (settings) => settings.transport !== "graph" && usesImap(settings.type),
  server: (s) =>
    s.imapHost && s.imapPort
      ? { host: s.imapHost, port: s.imapPort }
      : { missing: "IMAP Server or IMAP Port is empty" },
  open: openInbox,
};

/** Signs in and selects INBOX; started before the message is sent, so its arrival is seen as it happens. */
export async function openInbox(target: Endpoint, credentials: MailCredentials): Promise<OpenResult> {
  const oauth = "accessToken" in credentials;
  const secrets = [oauth ? credentials.accessToken : credentials.password];
  const client = new ImapFlow({
    host: target.address,
    port: target.port,
    secure: target.mode === "implicit",
    doSTARTTLS: target.mode === "starttls" ? true : target.mode === "none" ? false : undefined,
    servername: net.isIP(target.host) ? undefined : target.host,
    tls: { rejectUnauthorized: true, minVersion: "TLSv1.2" },
    auth: oauth
      ? { user: credentials.mailbox, accessToken: credentials.accessToken }
      : { user: credentials.mailbox, pass: credentials.password },
    ...IMAP_TIMEOUTS,
    logger: false,
    emitLogs: false,
    disableAutoIdle: true,
  });
  // A late socket error after a failure must not crash the process.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.logout().catch(() => client.close());
    return { ok: false, diagnosis: classifyImapError(error, credentials, secrets) };
  }
  let lock: { release(): void };
  try {
    lock = await client.getMailboxLock("INBOX");
  } catch (error) {
    await client.logout().catch(() => client.close());
    const diagnosis = classifyImapError(error, credentials, secrets);
    return {
      ok: false,
      diagnosis: diagnosis.code === "UNEXPECTED" ? diagnose("IMAP_INBOX", redact(describe(error), secrets)) : diagnosis,
    };
  }
  const tls = client.tls
    ? { version: client.tls.version, cipher: client.tls.standardName || client.tls.name }
    : undefined;
  return { ok: true, watcher: inboxWatcher(client, lock, secrets), ...(tls ? { tls } : {}) };
}

function inboxWatcher(client: ImapFlow, lock: { release(): void }, secrets: string[]): InboxWatcher {
  let newMail: () => void = () => {};
  client.on("exists", () => newMail());
  return {
    async waitFor(marker, deadline) {
      try {
        while (Date.now() < deadline) {
          const arrival = new Promise<void>((resolve) => (newMail = resolve));
          const found = await client.search({ header: { [MARKER_HEADER]: marker } }, { uid: true });
          if (found && found.length > 0) {
            const arrivedAt = Date.now();
            await client.messageDelete(found, { uid: true });
            return { ok: true, arrivedAt };
          }
          const idle = client.idle();
          await Promise.race([arrival, sleep(Math.max(0, deadline - Date.now()))]);
          // Issuing the next command ends IDLE.
          void idle.catch(() => {});
        }
        return { ok: false, diagnosis: diagnose("IMAP_NOT_DELIVERED") };
      } catch (error) {
        return { ok: false, diagnosis: classifyImapError(error, null, secrets) };
      }
    },
    async close() {
      lock.release();
      await client.logout().catch(() => client.close());
    },
  };
}

type ImapError = {
  authenticationFailed?: boolean;
  serverResponseCode?: string;
  responseStatus?: string;
  responseText?: string;
  code?: string;
  message?: string;
};

/** `credentials` is null once signed in: what fails then is no sign-in. */
function classifyImapError(
  error: unknown,
  credentials: MailCredentials | null,
  secrets: readonly (string | null)[],
): Diagnosis {
  const auth: AuthKind = credentials ? authKindOf(credentials) : "password";
  // The Login reading another mailbox (a shared one) with its own token needs FullAccess there.
  const delegate = auth === "user-token" && credentials && opensOtherMailbox(credentials);
  const e = (error ?? {}) as ImapError;
  const detail = redact(
    [e.responseStatus, e.serverResponseCode && `[${e.serverResponseCode}]`, e.responseText ?? e.message]
      .filter(Boolean)
      .join(" "),
    secrets,
  );
  if ((e.authenticationFailed || e.serverResponseCode === "AUTHENTICATIONFAILED") && delegate)
    return diagnose("IMAP_NO_FULL_ACCESS", detail, fullAccessLine(credentials.mailbox, credentials.user));
  if (e.authenticationFailed || e.serverResponseCode === "AUTHENTICATIONFAILED")
    return diagnose(
      { password: "IMAP_PASSWORD_REJECTED", "user-token": "IMAP_AUTH_FAILED", "app-token": "IMAP_APP_NOT_PERMITTED" }[
        auth
      ] as DiagnosisCode,
      detail,
    );
  // Exchange answers BAD with "User is authenticated but not connected" when the identity has no access to the mailbox.
  if (e.responseStatus === "BAD" && e.serverResponseCode === undefined && credentials && "accessToken" in credentials)
    return diagnose("IMAP_NOT_CONNECTED", detail, notConnectedLines(credentials).join("\n"));
  if ((error as { tlsFailed?: boolean })?.tlsFailed) return diagnose("TLS_NO_STARTTLS", detail);
  return classifyTransport(error, secrets) ?? diagnose("UNEXPECTED", detail);
}

/** The lines for "authenticated but not connected", this mailbox's own: its IMAP switch, and its permission. */
function notConnectedLines(credentials: Extract<MailCredentials, { accessToken: string }>): string[] {
  const lines = [enableProtocolLine(credentials.mailbox, "imap")];
  if (credentials.appOnly) {
    // The app's Exchange service principal is named by its token's object ID.
    const servicePrincipal = decodeClaims(credentials.accessToken)?.oid;
    if (servicePrincipal) lines.push(fullAccessLine(credentials.mailbox, servicePrincipal));
  } else if (opensOtherMailbox(credentials)) {
    lines.push(fullAccessLine(credentials.mailbox, credentials.user));
  }
  return lines;
}

function describe(error: unknown): string {
  const e = (error ?? {}) as ImapError;
  return [e.responseStatus, e.responseText ?? e.message].filter(Boolean).join(" ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
