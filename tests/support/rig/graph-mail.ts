import { randomUUID } from "node:crypto";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import type { EmuTenant } from "./entra-types";
import type { ExchangePermissions } from "./exchange-permissions";

/**
 * Microsoft Graph's mail endpoints over the rig's own store: `sendMail` delivers through Dovecot's LMTP,
 * and the inbox is Dovecot's (read as a master user), so a message sent through Graph is readable over
 * IMAP and the other way round. Permissions are Graph's: Mail.Send to send, Mail.Read(Write) to read,
 * Mail.ReadWrite to delete; a user token reaches its own mailbox, and another one only with FullAccess
 * there and the `.Shared` scopes; an app-only token every mailbox, unless Exchange limits the app (an
 * application access policy, or an RBAC for Applications scope). A `from` other than the mailbox needs
 * Send As or Send on Behalf on it. Refusals are Graph's real error bodies.
 */
export type GraphMailOptions = {
  ip: string;
  lmtpPort: number;
  master: { user: string; password: string };
  exchange: ExchangePermissions;
};

export type GraphCaller = {
  tenant: EmuTenant;
  /** The token's claims: `scp` and `upn` for a user, `roles` and `appid` for an app. */
  claims: { scp?: string; roles?: string[]; upn?: string; appid?: string; idtyp?: string };
};

type Answer = (status: number, body?: unknown, headers?: Record<string, string>) => void;
type Refuse = (status: number, code: string, message: string) => void;

const RAOP_MESSAGE =
  "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.";
const ACCESS_DENIED = "Access is denied. Check credentials and try again.";

export class GraphMail {
  /** New-ApplicationAccessPolicy -AccessRight RestrictAccess: the app reaches only these mailboxes. */
  readonly accessPolicies = new Map<string, Set<string>>();
  /** RBAC for Applications: the app's role assignments reach only these mailboxes (a management scope). */
  readonly rbacScopes = new Map<string, Set<string>>();
  /** Users without an Exchange Online licence: their mailbox is not there for Graph. */
  readonly unlicensed = new Set<string>();
  /** Every sendMail accepted: who sent what to whom (for tests that check what left). */
  readonly sent: { mailbox: string; to: string[]; subject: string; messageId: string }[] = [];

  constructor(private readonly options: GraphMailOptions) {}

  /** Whether this is a mail path; the caller answers everything else. */
  static handles(path: string): boolean {
    return /^users\/[^/]+\/(sendMail|mailFolders\/inbox(\/messages)?|messages\/[^/]+)$/.test(path);
  }

  async handle(
    caller: GraphCaller,
    method: string,
    path: string,
    url: URL,
    body: unknown,
    answer: Answer,
    refuse: Refuse,
  ) {
    const [, rawMailbox, rest] = /^users\/([^/]+)\/(.+)$/.exec(path)!;
    const mailbox = decodeURIComponent(rawMailbox!).toLowerCase();
    const user = caller.tenant.users.find((u) => u.upn.toLowerCase() === mailbox);
    if (!user) return refuse(404, "ErrorInvalidUser", `The requested user '${mailbox}' is invalid.`);
    if (this.unlicensed.has(mailbox))
      return refuse(
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
      );
    const app = caller.claims.idtyp === "app" || caller.claims.scp === undefined;
    const granted = app ? (caller.claims.roles ?? []) : (caller.claims.scp ?? "").split(" ");
    const signedIn = (caller.claims.upn ?? "").toLowerCase();
    // A user's token for a mailbox not its own counts only its `.Shared` scopes.
    const other = !app && signedIn !== mailbox;
    const needed = (
      method === "POST" ? ["Mail.Send"] : method === "DELETE" ? ["Mail.ReadWrite"] : ["Mail.Read", "Mail.ReadWrite"]
    ).map((p) => (other ? `${p}.Shared` : p));
    if (!needed.some((p) => granted.includes(p))) return refuse(403, "ErrorAccessDenied", ACCESS_DENIED);
    if (app) {
      const appId = caller.claims.appid ?? "";
      if (this.accessPolicies.get(appId)?.has(mailbox) === false) return refuse(403, "ErrorAccessDenied", RAOP_MESSAGE);
      if (this.rbacScopes.get(appId)?.has(mailbox) === false) return refuse(403, "ErrorAccessDenied", ACCESS_DENIED);
    } else if (!this.options.exchange.opens(signedIn, mailbox)) {
      return refuse(403, "ErrorAccessDenied", ACCESS_DENIED);
    }

    if (rest === "sendMail" && method === "POST")
      return this.sendMail(mailbox, app ? mailbox : signedIn, body, answer, refuse);
    if (rest === "mailFolders/inbox" && method === "GET") {
      const status = await this.imap(mailbox, (client) => client.status("INBOX", { messages: true, unseen: true }));
      return answer(200, {
        id: `inbox-${Buffer.from(mailbox).toString("base64url")}`,
        displayName: "Inbox",
        totalItemCount: (status || undefined)?.messages ?? 0,
        unreadItemCount: (status || undefined)?.unseen ?? 0,
      });
    }
    if (rest === "mailFolders/inbox/messages" && method === "GET")
      return this.listMessages(mailbox, url, answer, refuse);
    const messageMatch = /^messages\/([^/]+)$/.exec(rest!);
    if (messageMatch && method === "DELETE") {
      const uid = uidOf(decodeURIComponent(messageMatch[1]!));
      const deleted =
        uid !== null &&
        (await this.imap(mailbox, async (client) => {
          const lock = await client.getMailboxLock("INBOX");
          try {
            const found = await client.search({ uid: String(uid) }, { uid: true });
            if (!found || found.length === 0) return false;
            await client.messageDelete(String(uid), { uid: true });
            return true;
          } finally {
            lock.release();
          }
        }));
      if (!deleted) return refuse(404, "ErrorItemNotFound", "The specified object was not found in the store.");
      return answer(204);
    }
    return refuse(405, "ErrorInvalidRequest", "The OData request is not supported.");
  }

  /** `sender` is who submits: the signed-in user, or the mailbox itself for an app. */
  private async sendMail(mailbox: string, sender: string, body: unknown, answer: Answer, refuse: Refuse) {
    type Recipient = { emailAddress?: { address?: string } };
    const message = (body as { message?: Record<string, unknown> }).message;
    if (!message) return refuse(400, "ErrorInvalidRequest", "Empty Payload. JSON content expected.");
    const from = (message.from as Recipient | undefined)?.emailAddress?.address ?? mailbox;
    // Sending as oneself needs nothing more; a delegate, even from the shared mailbox it opened, needs
    // Send As or Send on Behalf there (FullAccess does not give it).
    const how = this.options.exchange.sendsFrom(sender, from);
    if (!how)
      return refuse(
        403,
        "ErrorSendAsDenied",
        "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.",
      );
    const addresses = (list: unknown) =>
      ((list as Recipient[] | undefined) ?? []).map((r) => r.emailAddress?.address ?? "");
    const to = addresses(message.toRecipients);
    const all = [...to, ...addresses(message.ccRecipients), ...addresses(message.bccRecipients)];
    if (all.length === 0)
      return refuse(
        400,
        "ErrorInvalidRecipients",
        "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
      );
    const invalid = all.find((a) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a));
    if (invalid !== undefined)
      return refuse(
        400,
        "ErrorInvalidRecipients",
        `At least one recipient is not valid., Recipient '${invalid}' is not resolved. All recipients must be resolved before a message can be submitted.`,
      );
    const headers = (message.internetMessageHeaders as { name: string; value: string }[] | undefined) ?? [];
    const notCustom = headers.find((h) => !/^x-/i.test(h.name));
    if (notCustom)
      return refuse(
        400,
        "InvalidInternetMessageHeader",
        `The internet message header name '${notCustom.name}' should start with 'x-' or 'X-'.`,
      );
    const messageId = String(message.internetMessageId ?? `<${randomUUID()}@graph.rig>`);
    const content = (message.body as { content?: string; contentType?: string } | undefined) ?? {};
    const subject = String(message.subject ?? "");
    const lmtp = nodemailer.createTransport({ host: this.options.ip, port: this.options.lmtpPort, lmtp: true });
    try {
      await lmtp.sendMail({
        envelope: { from, to: all },
        from,
        ...(how === "on-behalf" ? { sender } : {}),
        to,
        subject,
        messageId,
        headers: Object.fromEntries(headers.map((h) => [h.name, h.value])),
        ...(message.ccRecipients ? { cc: addresses(message.ccRecipients) } : {}),
        ...(message.replyTo ? { replyTo: addresses(message.replyTo) } : {}),
        attachments: ((message.attachments as { name: string; contentType: string; contentBytes: string }[]) ?? []).map(
          (a) => ({ filename: a.name, contentType: a.contentType, content: Buffer.from(a.contentBytes, "base64") }),
        ),
        ...(content.contentType?.toLowerCase() === "html"
          ? { html: content.content ?? "" }
          : { text: content.content ?? "" }),
      });
    } finally {
      lmtp.close();
    }
    this.sent.push({ mailbox, to: all, subject, messageId });
    return answer(202);
  }

  /** `$filter=internetMessageId eq '…'` (what the portal asks), `$top`, `$select`. */
  private async listMessages(mailbox: string, url: URL, answer: Answer, refuse: Refuse) {
    const filter = url.searchParams.get("$filter") ?? "";
    const match = /^internetMessageId eq '((?:[^']|'')*)'$/.exec(filter.trim());
    if (filter && !match)
      return refuse(400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.");
    const top = Math.min(Number(url.searchParams.get("$top") ?? 10) || 10, 1000);
    const wanted = match ? match[1]!.replaceAll("''", "'") : null;
    const messages = await this.imap(mailbox, async (client) => {
      const lock = await client.getMailboxLock("INBOX");
      try {
        const uids = wanted
          ? await client.search({ header: { "message-id": wanted } }, { uid: true })
          : await client.search({ all: true }, { uid: true });
        const list: { id: string; internetMessageId: string; subject: string; receivedDateTime: string }[] = [];
        for (const uid of (uids || []).slice(-top)) {
          const m = await client.fetchOne(String(uid), { envelope: true, internalDate: true }, { uid: true });
          if (!m) continue;
          list.push({
            id: idOf(uid),
            internetMessageId: m.envelope?.messageId ?? "",
            subject: m.envelope?.subject ?? "",
            receivedDateTime: new Date(m.internalDate ?? Date.now()).toISOString(),
          });
        }
        return list;
      } finally {
        lock.release();
      }
    });
    // Exchange compares the whole Message-ID: IMAP's header search matches substrings.
    return answer(200, { value: wanted ? messages.filter((m) => m.internetMessageId === wanted) : messages });
  }

  private async imap<T>(mailbox: string, work: (client: ImapFlow) => Promise<T>): Promise<T> {
    const { master } = this.options;
    const client = new ImapFlow({
      host: this.options.ip,
      port: 993,
      secure: true,
      auth: { user: `${mailbox}*${master.user}`, pass: master.password },
      logger: false,
      disableAutoIdle: true,
    });
    client.on("error", () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }
}

function idOf(uid: number): string {
  return `AAMkAG${Buffer.from(`uid:${uid}`).toString("base64url")}`;
}

function uidOf(id: string): number | null {
  if (!id.startsWith("AAMkAG")) return null;
  const match = /^uid:(\d+)$/.exec(Buffer.from(id.slice(6), "base64url").toString("utf8"));
  return match ? Number(match[1]) : null;
}
