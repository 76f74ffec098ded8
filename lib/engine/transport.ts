import type { TLSSocket } from "node:tls";
import type { Diagnosis } from "./diagnoses";
import { type CheckSettings, identitiesOf, sameAddress, type TlsMode } from "./settings";

/** The header that marks the test message, so the receiving side finds exactly that one. */
export const MARKER_HEADER = "X-Navigator-Mail-Test";

/**
 * How a transport signs in: a bearer token for XOAUTH2 (a user's, or an app's), or a password without
 * OAuth. `user` signs in to SMTP (the Login; the Mailbox for app-only tokens); `mailbox` is the mailbox
 * IMAP and Graph open (IMAP's XOAUTH2 user, Graph's /users/{mailbox}), with the same token.
 */
export type MailCredentials = { user: string; mailbox: string } & (
  | { accessToken: string; appOnly?: boolean }
  | { password: string }
);

/** Whoever signs in opens a mailbox not its own (a shared one): Exchange wants FullAccess there. */
export function opensOtherMailbox(credentials: MailCredentials): boolean {
  return !sameAddress(credentials.mailbox, credentials.user);
}

/** The credentials of a mailbox: its password, or the token its sign-in method acquired. */
export function mailCredentials(
  settings: CheckSettings,
  token?: { accessToken: string; xoauth2User: string; appOnly: boolean },
): MailCredentials {
  const { login, mailbox } = identitiesOf(settings);
  if (!token) return { user: login, mailbox, password: settings.password ?? "" };
  return { user: token.xoauth2User, mailbox, accessToken: token.accessToken, appOnly: token.appOnly };
}

/** Who a server refused: it decides whether a refusal means a wrong password, a missing permission or missing app access. */
export type AuthKind = "password" | "user-token" | "app-token";

export function authKindOf(credentials: MailCredentials): AuthKind {
  if (!("accessToken" in credentials)) return "password";
  return credentials.appOnly ? "app-token" : "user-token";
}

/** A server as the network guard approved it: connect to `address`, verify TLS against `host`. */
export type Endpoint = { host: string; address: string; port: number; mode: TlsMode };

/** Hosts an operator points elsewhere (an emulator, a proxy): ENTRA_GRAPH_HOST. */
export type ServerOverrides = { graphHost?: string };

/** One message as a business system sends it; each transport writes it in its own form. */
export type OutgoingMail = {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  /** The plain text, the HTML, or both (a client shows the HTML). */
  text?: string;
  html?: string;
  /** The Message-ID to give it, angle brackets included: the receiving side may look it up by it. */
  messageId?: string;
  /** Custom headers only (X-…). */
  headers?: Record<string, string>;
  attachments?: { filename: string; contentType: string; content: Buffer }[];
};

/**
 * The marked test message to the Mailbox `address`, from Send as (by default the mailbox to itself),
 * findable by its header and its Message-ID.
 */
export function testMail(address: string, marker: string, from = address): OutgoingMail {
  return {
    from,
    to: [address],
    subject: `Navigator Mail test ${marker.slice(0, 8)}`,
    text: `This message was sent by Navigator Mail to test this mailbox's settings. It is deleted automatically once received.\n\nTest id: ${marker}\n`,
    messageId: testMessageId(address, marker),
    headers: { [MARKER_HEADER]: marker },
  };
}

/** The test message's Message-ID, derived from its marker: Graph finds a message by it ($filter). */
export function testMessageId(address: string, marker: string): string {
  return `<navigator-test.${marker}@${address.split("@")[1] || "navigator-mail.invalid"}>`;
}

/** The TLS a session negotiated ("TLSv1.3", "TLS_AES_256_GCM_SHA384"), as the steps record it. */
export type TlsInfo = { version: string; cipher: string };

/** What a TLS socket negotiated; nothing for a connection without TLS. */
export function tlsOf(socket: unknown): TlsInfo | undefined {
  const tls = socket as Partial<Pick<TLSSocket, "getProtocol" | "getCipher" | "encrypted">> | null;
  if (!tls?.encrypted || !tls.getProtocol || !tls.getCipher) return undefined;
  const version = tls.getProtocol();
  return version ? { version, cipher: tls.getCipher().standardName || tls.getCipher().name } : undefined;
}

export type SendResult =
  | { ok: true; acceptedAt: number; response: string; tls?: TlsInfo }
  | { ok: false; diagnosis: Diagnosis };

export type InboxWatcher = {
  /** Waits for the marked message, then deletes it. */
  waitFor(
    marker: string,
    deadline: number,
  ): Promise<{ ok: true; arrivedAt: number } | { ok: false; diagnosis: Diagnosis }>;
  close(): Promise<void>;
};

export type OpenResult = { ok: true; watcher: InboxWatcher; tls?: TlsInfo } | { ok: false; diagnosis: Diagnosis };

type TransportBase = {
  /** The step's name in reports ("SMTP send"). */
  label: string;
  /** Ports the network guard accepts without an operator's allow-list entry. */
  ports: readonly number[];
  /** Whether the mailbox's Type and Transport use this one at all. */
  usedBy(settings: Pick<CheckSettings, "type" | "transport">): boolean;
  /**
   * The server the settings name, or what is missing ("SMTP Server or SMTP Port is empty"); Graph's
   * host comes from the cloud, or the operator's override.
   */
  server(settings: CheckSettings, hosts: ServerOverrides): { host: string; port: number } | { missing: string };
};

export type SignInResult = { ok: true; response: string; tls?: TlsInfo } | { ok: false; diagnosis: Diagnosis };

export type SendTransport = TransportBase & {
  role: "send";
  /** Sends one message; a refusal comes back as a diagnosis. */
  send(endpoint: Endpoint, credentials: MailCredentials, mail: OutgoingMail): Promise<SendResult>;
  /** Connects and signs in without sending anything: the light test. */
  signIn(endpoint: Endpoint, credentials: MailCredentials): Promise<SignInResult>;
};

/** Opened before the message is sent, so its arrival is seen as it happens. */
export type ReceiveTransport = TransportBase & {
  role: "receive";
  /** How long to wait for the message once it was sent. */
  budgetMs: number;
  open(endpoint: Endpoint, credentials: MailCredentials): Promise<OpenResult>;
};

export type Transport = SendTransport | ReceiveTransport;
