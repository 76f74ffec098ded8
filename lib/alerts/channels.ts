import "server-only";
import { randomBytes } from "node:crypto";
import { and, asc, count, eq } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { type AlertChannel, type AuditChange, alertChannels, mailboxes } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { assertTenantAccess, type UserActor } from "@/lib/auth/actor";
import { open, type SealingKey, seal, sealingContext } from "@/lib/crypto/seal";
import { usesSmtp } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { NotFoundError, UserError } from "@/lib/errors";
import type { CreateEmailChannelInput, CreateWebhookChannelInput } from "./schema";
import { type WebhookTarget, webhookRefusal } from "./webhook";

const MAX_CHANNELS_PER_TENANT = 20;

/** A channel as pages see it: never the URL's path or the signing secret. */
export type AlertChannelView = Omit<AlertChannel, "webhookSealed"> & { senderName: string | null };

/** What a webhook delivery needs; opened only by the sender, never for a page. */
type WebhookSecrets = { url: string; secret: string };

export const webhookContext = (channel: Pick<AlertChannel, "tenantId" | "id">) =>
  sealingContext({ tenantId: channel.tenantId, table: "alert_channels", rowId: channel.id, field: "webhook" });

export function openWebhook(channel: Pick<AlertChannel, "tenantId" | "id" | "webhookSealed">, keys?: SealingKey[]) {
  if (!channel.webhookSealed) throw new Error("not a webhook channel");
  return JSON.parse(open(channel.webhookSealed, webhookContext(channel), keys)) as WebhookSecrets;
}

/**
 * A webhook channel. The URL is checked by the network guard before anything is stored; the signing
 * secret is made here and returned once, for the receiver to verify `X-Signature` with.
 */
export async function createWebhookChannel(
  db: Db,
  actor: UserActor,
  input: CreateWebhookChannelInput,
  target: WebhookTarget = { allowlist: getEnv().MAIL_ALLOW_PRIVATE },
): Promise<{ view: AlertChannelView; secret: string }> {
  assertTenantAccess(actor, input.tenantId);
  const refusal = await webhookRefusal(input.url, target);
  if (refusal) throw new UserError(`This URL is refused: ${refusal}`, "url");
  const secret = `whsec_${randomBytes(32).toString("base64url")}`;
  const view = insertChannel(db, actor, input.tenantId, input.name, (tx, row) => {
    const webhookSealed = seal(JSON.stringify({ url: input.url.href, secret }), webhookContext(row));
    tx.update(alertChannels).set({ webhookSealed }).where(eq(alertChannels.id, row.id)).run();
    return { kind: "webhook", webhookHost: input.url.host };
  });
  return { view, secret };
}

/** An email channel: its recipients and the mailbox it sends from (one of the tenant's, or the portal's sender). */
export function createEmailChannel(db: Db, actor: UserActor, input: CreateEmailChannelInput): AlertChannelView {
  assertTenantAccess(actor, input.tenantId);
  const senderId = input.senderMailboxId;
  if (senderId === null && getEnv().ALERT_SENDER_MAILBOX === undefined) {
    throw new UserError(
      "This portal has no alert sender of its own: choose one of the tenant's mailboxes.",
      "senderMailboxId",
    );
  }
  if (senderId !== null) {
    const sender = db
      .select({ type: mailboxes.type })
      .from(mailboxes)
      .where(and(eq(mailboxes.id, senderId), eq(mailboxes.tenantId, input.tenantId)))
      .get();
    if (!sender) throw new UserError("Choose a mailbox of this tenant.", "senderMailboxId");
    if (!usesSmtp(sender.type)) throw new UserError("Choose a mailbox that sends (Type SMTP).", "senderMailboxId");
  }
  return insertChannel(db, actor, input.tenantId, input.name, () => ({
    kind: "email",
    recipients: input.recipients,
    senderMailboxId: senderId,
    portalSender: senderId === null,
  }));
}

function insertChannel(
  db: Db,
  actor: UserActor,
  tenantId: number,
  name: string,
  complete: (tx: Tx, row: AlertChannel) => Pick<AlertChannel, "kind"> & Partial<AlertChannel>,
): AlertChannelView {
  return db.transaction(
    (tx) => {
      const n = tx.select({ n: count() }).from(alertChannels).where(eq(alertChannels.tenantId, tenantId)).get()?.n ?? 0;
      if (n >= MAX_CHANNELS_PER_TENANT) {
        throw new UserError(`This tenant has ${n} alert channels, the most it may have. Delete one first.`);
      }
      const clash = tx
        .select({ id: alertChannels.id })
        .from(alertChannels)
        .where(and(eq(alertChannels.tenantId, tenantId), eq(alertChannels.name, name)))
        .get();
      if (clash) throw new UserError(`This tenant already has an alert channel named "${name}".`, "name");
      const row = tx
        .insert(alertChannels)
        .values({ tenantId, name, kind: "email", createdBy: actor.email, createdAt: new Date() })
        .returning()
        .get();
      const rest = complete(tx, row);
      tx.update(alertChannels).set(rest).where(eq(alertChannels.id, row.id)).run();
      const channel = tx.select().from(alertChannels).where(eq(alertChannels.id, row.id)).get()!;
      recordAudit(tx, actor, {
        tenantId,
        action: "alert_channel.create",
        targetType: "alert_channel",
        targetId: row.id,
        targetLabel: name,
        changes: describeTarget(channel),
      });
      return withSenderName(tx, channel);
    },
    { behavior: "immediate" },
  );
}

export function listAlertChannels(db: Db, actor: UserActor, tenantId: number): AlertChannelView[] {
  assertTenantAccess(actor, tenantId);
  return db
    .select()
    .from(alertChannels)
    .where(eq(alertChannels.tenantId, tenantId))
    .orderBy(asc(alertChannels.name))
    .all()
    .map((row) => withSenderName(db, row));
}

/** One of the actor's tenant's channels, or NotFoundError (another tenant's channel does not exist for it). */
export function getAlertChannelFor(db: Db | Tx, actor: UserActor, tenantId: number, channelId: number): AlertChannel {
  assertTenantAccess(actor, tenantId);
  const row = db
    .select()
    .from(alertChannels)
    .where(and(eq(alertChannels.id, channelId), eq(alertChannels.tenantId, tenantId)))
    .get();
  if (!row) throw new NotFoundError();
  return row;
}

export function deleteAlertChannel(db: Db, actor: UserActor, tenantId: number, channelId: number): AlertChannelView {
  return db.transaction((tx) => {
    const row = getAlertChannelFor(tx, actor, tenantId, channelId);
    tx.delete(alertChannels).where(eq(alertChannels.id, row.id)).run();
    recordAudit(tx, actor, {
      tenantId,
      action: "alert_channel.delete",
      targetType: "alert_channel",
      targetId: row.id,
      targetLabel: row.name,
    });
    return withSenderName(tx, row);
  });
}

/** Where a channel sends, in words fit for the audit log and the page (a webhook by its host only). */
function describeTarget(channel: AlertChannel): Record<string, AuditChange> {
  return channel.kind === "webhook"
    ? { kind: { to: "webhook" }, host: { to: channel.webhookHost ?? "" } }
    : {
        kind: { to: "email" },
        recipients: { to: (channel.recipients ?? []).join(", ") },
        sender: { to: channel.portalSender ? "the portal's alert sender" : `mailbox #${channel.senderMailboxId}` },
      };
}

function withSenderName(db: Db | Tx, row: AlertChannel): AlertChannelView {
  const { webhookSealed: _sealed, ...view } = row;
  const senderId = row.portalSender ? (getEnv().ALERT_SENDER_MAILBOX ?? null) : row.senderMailboxId;
  const sender =
    senderId === null
      ? undefined
      : db
          .select({ name: mailboxes.name, login: mailboxes.login })
          .from(mailboxes)
          .where(eq(mailboxes.id, senderId))
          .get();
  const senderName = sender
    ? row.portalSender
      ? `the portal's alert sender (${sender.login})`
      : `${sender.name} (${sender.login})`
    : null;
  return { ...view, senderName };
}
