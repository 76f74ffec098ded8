import "server-only";
import { decodeClaims } from "./claims";
import { classifyTransport } from "./classify-mail";
import { type Diagnosis, diagnose } from "./diagnoses";
import { type GraphAnswer, graphSession } from "./graph-client";
import { accessPolicyLines, appScopeLines, fullAccessLine, sendAsLines } from "./powershell";
import { redact } from "./redact";
import { graphHostFor, sameAddress, usesImap, usesSmtp } from "./settings";
import {
  authKindOf,
  type Endpoint,
  type InboxWatcher,
  type MailCredentials,
  type OpenResult,
  type OutgoingMail,
  opensOtherMailbox,
  type ReceiveTransport,
  type SendResult,
  type SendTransport,
  type TlsInfo,
  testMessageId,
} from "./transport";

const GRAPH_PORTS: readonly number[] = [443];
/** How often the inbox is asked for the test message: Graph has no IDLE, and a poll costs one request. */
const POLL_MS = 500;

/** The Graph host of the settings' cloud (or the operator's override), as a server to guard and connect to. */
function graphServer(settings: Parameters<typeof graphHostFor>[0], hosts: { graphHost?: string }) {
  const url = new URL(graphHostFor(settings, hosts.graphHost));
  return { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port || 443) };
}

export const graphSendTransport: SendTransport = {
  role: "send",
  label: "Graph send",
  ports: GRAPH_PORTS,
  usedBy: (s) => s.transport === "graph" && usesSmtp(s.type),
  server: graphServer,
  send: sendGraphMessage,
  // Sending is the only thing Mail.Send allows: the light test proves the token and its claims, and sends nothing.
  signIn: async () => ({ ok: true, response: "Token holds Mail.Send; nothing sent (light test)" }),
};

export const graphReceiveTransport: ReceiveTransport = {
  role: "receive",
  label: "Graph receive",
  ports: GRAPH_PORTS,
  budgetMs: 60_000,
  usedBy: (s) => s.transport === "graph" && usesImap(s.type),
  server: graphServer,
  open: openInbox,
};

/** `POST /users/{mailbox}/sendMail`: 202 means Exchange accepted it for delivery. */
async function sendGraphMessage(
  endpoint: Endpoint,
  credentials: MailCredentials,
  mail: OutgoingMail,
): Promise<SendResult> {
  if (!("accessToken" in credentials)) return { ok: false, diagnosis: diagnose("NO_PASSWORD") };
  const recipients = (list: string[]) => list.map((address) => ({ emailAddress: { address } }));
  const message = {
    subject: mail.subject,
    // Graph carries one body: the HTML when there is one (as a client would show it).
    body:
      mail.html !== undefined
        ? { contentType: "HTML", content: mail.html }
        : { contentType: "Text", content: mail.text ?? "" },
    toRecipients: recipients(mail.to),
    ...(mail.cc?.length ? { ccRecipients: recipients(mail.cc) } : {}),
    ...(mail.bcc?.length ? { bccRecipients: recipients(mail.bcc) } : {}),
    ...(mail.replyTo?.length ? { replyTo: recipients(mail.replyTo) } : {}),
    ...(mail.attachments?.length
      ? {
          attachments: mail.attachments.map((a) => ({
            "@odata.type": "#microsoft.graph.fileAttachment",
            name: a.filename,
            contentType: a.contentType,
            contentBytes: a.content.toString("base64"),
          })),
        }
      : {}),
    // The mailbox itself is the sender unless another address is asked for (Send as).
    ...(!sameAddress(mail.from, credentials.mailbox) ? { from: { emailAddress: { address: mail.from } } } : {}),
    ...(mail.messageId ? { internetMessageId: mail.messageId } : {}),
    ...(mail.headers
      ? { internetMessageHeaders: Object.entries(mail.headers).map(([name, value]) => ({ name, value })) }
      : {}),
  };
  const path = `users/${encodeURIComponent(credentials.mailbox)}/sendMail`;
  const session = graphSession(endpoint, credentials.accessToken);
  try {
    const answer = await session.call("POST", path, { message, saveToSentItems: false });
    if (answer.status === 202) {
      return { ok: true, acceptedAt: Date.now(), response: "202 Accepted by Microsoft Graph", tls: answer.tls };
    }
    return { ok: false, diagnosis: classifyGraphAnswer(answer, credentials, mail.from) };
  } catch (error) {
    return { ok: false, diagnosis: classifyGraphFailure(error, credentials) };
  } finally {
    session.close();
  }
}

/** Reads the inbox once (the light test stops there); the watcher then polls for the test message. */
async function openInbox(endpoint: Endpoint, credentials: MailCredentials): Promise<OpenResult> {
  if (!("accessToken" in credentials)) return { ok: false, diagnosis: diagnose("NO_PASSWORD") };
  const mailbox = `users/${encodeURIComponent(credentials.mailbox)}`;
  const session = graphSession(endpoint, credentials.accessToken);
  const call = (method: "GET" | "DELETE", path: string) => session.call(method, `${mailbox}/${path}`);
  let tls: TlsInfo | undefined;
  try {
    const inbox = await call("GET", "mailFolders/inbox?$select=id,totalItemCount");
    if (inbox.status !== 200) {
      session.close();
      return { ok: false, diagnosis: classifyGraphAnswer(inbox, credentials) };
    }
    tls = inbox.tls;
  } catch (error) {
    session.close();
    return { ok: false, diagnosis: classifyGraphFailure(error, credentials) };
  }
  const watcher: InboxWatcher = {
    async waitFor(marker, deadline) {
      const messageId = testMessageId(credentials.mailbox, marker).replaceAll("'", "''");
      const query = `mailFolders/inbox/messages?$filter=${encodeURIComponent(`internetMessageId eq '${messageId}'`)}&$select=id,receivedDateTime&$top=1`;
      try {
        while (Date.now() < deadline) {
          const found = await call("GET", query);
          if (found.status === 429) {
            await sleep(Math.min(retryAfterMs(found), Math.max(0, deadline - Date.now())));
            continue;
          }
          if (found.status !== 200) return { ok: false, diagnosis: classifyGraphAnswer(found, credentials) };
          const message = (found.body.value as { id: string }[] | undefined)?.[0];
          if (message) {
            const arrivedAt = Date.now();
            const deleted = await call("DELETE", `messages/${encodeURIComponent(message.id)}`);
            if (deleted.status !== 204) return { ok: false, diagnosis: classifyGraphAnswer(deleted, credentials) };
            return { ok: true, arrivedAt };
          }
          await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
        }
        return { ok: false, diagnosis: diagnose("IMAP_NOT_DELIVERED") };
      } catch (error) {
        return { ok: false, diagnosis: classifyGraphFailure(error, credentials) };
      }
    },
    // Graph keeps no sign-in: closing ends the kept-alive connection.
    close: async () => session.close(),
  };
  return { ok: true, watcher, tls };
}

function retryAfterMs(answer: GraphAnswer): number {
  const seconds = Number(answer.headers["retry-after"]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
}

function classifyGraphFailure(error: unknown, credentials: MailCredentials): Diagnosis {
  const secrets = "accessToken" in credentials ? [credentials.accessToken] : [];
  return (
    classifyTransport(error, secrets) ??
    diagnose("UNEXPECTED", redact(error instanceof Error ? error.message : String(error), secrets))
  );
}

/**
 * Graph's refusals by their error code, never the sentence. ErrorAccessDenied means a scoped app for an
 * app-only token and a user without access for a delegated one; the app's line names this mailbox and app.
 */
function classifyGraphAnswer(answer: GraphAnswer, credentials: MailCredentials, from?: string): Diagnosis {
  const code = answer.body.error?.code ?? "";
  const message = answer.body.error?.message ?? "";
  const secrets = "accessToken" in credentials ? [credentials.accessToken] : [];
  const detail = redact(`${answer.status} ${code}: ${message}`.trim(), secrets);
  if (answer.status === 429) {
    const wait = answer.headers["retry-after"];
    return diagnose("GRAPH_THROTTLED", `${detail}${wait ? ` (Retry-After: ${wait} s)` : ""}`);
  }
  if (code === "InvalidAuthenticationToken" || answer.status === 401) return diagnose("GRAPH_TOKEN_REJECTED", detail);
  if (code === "ErrorAccessDenied" || code === "AccessDenied") {
    if (authKindOf(credentials) === "app-token" && "accessToken" in credentials) {
      return diagnose(
        "GRAPH_APP_SCOPE",
        detail,
        appScopeCommand(credentials.accessToken, credentials.mailbox, message),
      );
    }
    // The Login opening another mailbox (a shared one) needs FullAccess there.
    return diagnose(
      "GRAPH_ACCESS_DENIED",
      detail,
      opensOtherMailbox(credentials) ? fullAccessLine(credentials.mailbox, credentials.user) : undefined,
    );
  }
  if (code === "ErrorSendAsDenied" && from)
    return diagnose("SEND_AS_DENIED", detail, sendAsLines(from, credentials.user).join("\n"));
  if (code === "MailboxNotEnabledForRESTAPI" || code === "MailboxNotSupportedForRESTAPI")
    return diagnose("GRAPH_MAILBOX_NOT_ENABLED", detail);
  if (code === "ErrorInvalidUser" || code === "ResourceNotFound") return diagnose("GRAPH_INVALID_USER", detail);
  if (code === "ErrorInvalidRecipients") return diagnose("GRAPH_INVALID_RECIPIENTS", detail);
  return diagnose("GRAPH_REFUSED", detail);
}
/** The Exchange lines that give this app (named by its own token) access to this mailbox. */
function appScopeCommand(accessToken: string, mailbox: string, message: string): string | undefined {
  const claims = decodeClaims(accessToken) as { appid?: string; oid?: string; roles?: string[] } | null;
  if (!claims?.appid) return undefined;
  const roles = (claims.roles ?? []).filter((role) => role.startsWith("Mail."));
  const lines = appScopeLines({ appId: claims.appid, servicePrincipalId: claims.oid, mailbox, roles });
  // [RAOP]: an application access policy refused it; Exchange reports that case by name.
  return (message.includes("[RAOP]") ? [...accessPolicyLines({ appId: claims.appid, mailbox }), ...lines] : lines).join(
    "\n",
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
