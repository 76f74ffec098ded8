import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { and, eq, gt, lt } from "drizzle-orm";
import { type Db, transaction } from "@/db/client";
import { apiMessages } from "@/db/schema";
import { recordMailboxAudit } from "@/lib/audit/log";
import type { ApiKeyActor } from "@/lib/auth/actor";
import type { Diagnosis } from "@/lib/engine/diagnoses";
import { sendMailAs } from "@/lib/engine/send-mail";
import { usesSmtp } from "@/lib/engine/settings";
import type { OutgoingMail } from "@/lib/engine/transport";
import { getMailboxFor } from "@/lib/mailbox/queries";
import type { Refusal } from "./refusals";
import { checkOptionsFor, checkSettingsFor } from "./test-settings";

/**
 * Exchange Online accepts 30 messages a minute from one mailbox; the portal holds each mailbox to that,
 * counted in the database, so every instance shares the count. An Idempotency-Key is kept 24 hours.
 */
export const MESSAGE_LIMITS = { perMailboxPerMinute: 30, idempotencyMs: 24 * 3_600_000 };

/**
 * What became of a message, as answered the first time and repeated for the same Idempotency-Key: the
 * accepted message, or the diagnosis of its refusal with the HTTP status that says whose move it is.
 */
type SendOutcome =
  | { accepted: { id: string; status: "accepted"; transport: string; accepted_at: string } }
  | { refused: { status: 422 | 502; code: string; detail: string } };

type SendAnswer = SendOutcome & { replayed: boolean };

/** A message as the business system hands it over: the mailbox is its sender, the portal names it. */
export type MessageToSend = Omit<OutgoingMail, "from" | "messageId">;

/** Settings that cannot send at all: the request is not possible, not a refusal of the server. */
const NOT_POSSIBLE = new Set(["SETTINGS_INCOMPLETE", "NO_PASSWORD", "NO_APP_CREDENTIAL", "GRAPH_NEEDS_OAUTH"]);

/**
 * Sends one message through a mailbox's own transport (SMTP with XOAUTH2, or Graph's sendMail), as the
 * mailbox's test does: the same network guard, token cache and diagnoses. The message is recorded and
 * audited without its content; with an Idempotency-Key, the same request within 24 hours is answered
 * from that record and nothing is sent again.
 */
export async function sendApiMessage(
  db: Db,
  actor: ApiKeyActor,
  mailboxId: number,
  message: MessageToSend,
  idempotencyKey: string | null,
): Promise<{ ok: true; answer: SendAnswer } | { ok: false; refusal: Refusal }> {
  const mailbox = await getMailboxFor(db, actor, actor.tenantId, mailboxId);
  if (!usesSmtp(mailbox.type)) {
    const refusal = "This mailbox's Type only receives: choose a mailbox that sends.";
    return { ok: false, refusal: { kind: "invalid", message: refusal, fieldErrors: {} } };
  }
  const requestHash = hashOf(mailboxId, message);
  const domain = mailbox.login.split("@")[1] ?? "navigator-mail.invalid";
  const messageId = `<${randomUUID()}@${domain}>`;
  const now = Date.now();

  // The key's earlier answer, the rate, and this message's record: one transaction, so two requests
  // with one key, or the 31st of a minute on two instances, cannot both send.
  const claimed = await transaction(db, async (tx) => {
    if (idempotencyKey) {
      const earlier = (
        await tx
          .select()
          .from(apiMessages)
          .where(and(eq(apiMessages.apiKeyId, actor.id), eq(apiMessages.idempotencyKey, idempotencyKey)))
      )[0];
      if (earlier && earlier.createdAt.getTime() > now - MESSAGE_LIMITS.idempotencyMs) {
        if (earlier.requestHash !== requestHash) {
          const message = "This Idempotency-Key was used for another request in the last 24 hours: use a new key.";
          return { kind: "refused" as const, refusal: { kind: "invalid", message, fieldErrors: {} } as Refusal };
        }
        if (earlier.status === "sending") {
          return {
            kind: "refused" as const,
            refusal: { kind: "busy", message: "A request with this Idempotency-Key is still sending." } as Refusal,
          };
        }
        return { kind: "replay" as const, replay: { ...(earlier.answer as SendOutcome), replayed: true } };
      }
      if (earlier) await tx.delete(apiMessages).where(eq(apiMessages.id, earlier.id));
    }
    const minuteAgo = new Date(now - 60_000);
    const recent = await tx
      .select({ at: apiMessages.createdAt })
      .from(apiMessages)
      .where(and(eq(apiMessages.mailboxId, mailbox.id), gt(apiMessages.createdAt, minuteAgo)))
      .orderBy(apiMessages.createdAt)
      .limit(MESSAGE_LIMITS.perMailboxPerMinute);
    if (recent.length >= MESSAGE_LIMITS.perMailboxPerMinute) {
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]!.at.getTime() + 60_000 - now) / 1000));
      const message = `This mailbox has sent ${MESSAGE_LIMITS.perMailboxPerMinute} messages in the last minute, Exchange Online's limit. Try again in ${retryAfterSeconds} s.`;
      return { kind: "refused" as const, refusal: { kind: "rate_limited", message, retryAfterSeconds } as Refusal };
    }
    // Records older than the Idempotency-Key's day are no longer needed by anyone.
    await tx
      .delete(apiMessages)
      .where(
        and(
          eq(apiMessages.mailboxId, mailbox.id),
          lt(apiMessages.createdAt, new Date(now - MESSAGE_LIMITS.idempotencyMs)),
        ),
      );
    const [row] = await tx
      .insert(apiMessages)
      .values({
        tenantId: mailbox.tenantId,
        mailboxId: mailbox.id,
        apiKeyId: actor.id,
        idempotencyKey,
        requestHash,
        messageId,
        status: "sending",
        createdAt: new Date(now),
      })
      .returning({ id: apiMessages.id });
    return { kind: "claimed" as const, id: row!.id };
  });
  if (claimed.kind === "refused") return { ok: false, refusal: claimed.refusal };
  if (claimed.kind === "replay") return { ok: true, answer: claimed.replay };

  const settings = checkSettingsFor(mailbox);
  const sent = await sendMailAs(settings, checkOptionsFor(settings, { db, mailbox, actor, cache: true }), {
    ...message,
    messageId,
  });
  const outcome: SendOutcome = sent.ok
    ? {
        accepted: {
          id: messageId,
          status: "accepted",
          transport: mailbox.transport,
          accepted_at: new Date(sent.acceptedAt).toISOString(),
        },
      }
    : { refused: refusalOf(sent.diagnosis) };
  await transaction(db, async (tx) => {
    await tx
      .update(apiMessages)
      .set({
        status: sent.ok ? "accepted" : "failed",
        answerStatus: "accepted" in outcome ? 202 : outcome.refused.status,
        answer: outcome,
      })
      .where(eq(apiMessages.id, claimed.id));
    // Who sent what to whom, never the content.
    await recordMailboxAudit(tx, actor, mailbox, "mailbox.message.send", {
      message: { to: messageId },
      outcome: { to: sent.ok ? "accepted" : `refused (${sent.diagnosis.code})` },
      recipients: { to: [...message.to, ...(message.cc ?? []), ...(message.bcc ?? [])].length },
      attachments: { to: message.attachments?.length ?? 0 },
    });
  });
  return { ok: true, answer: { ...outcome, replayed: false } };
}

/** What makes two requests the same: the mailbox and every part of the message, attachments by their bytes. */
function hashOf(mailboxId: number, message: MessageToSend): string {
  const hash = createHash("sha256").update(JSON.stringify([mailboxId, { ...message, attachments: undefined }]));
  for (const a of message.attachments ?? []) hash.update(JSON.stringify([a.filename, a.contentType])).update(a.content);
  return hash.digest("hex");
}

/** A refused send: the mailbox's settings cannot send (422), or its server or Microsoft refused (502). */
function refusalOf(diagnosis: Diagnosis): { status: 422 | 502; code: string; detail: string } {
  const status = NOT_POSSIBLE.has(diagnosis.code) ? 422 : 502;
  return { status, code: diagnosis.code, detail: `${diagnosis.cause} ${diagnosis.fix}` };
}
