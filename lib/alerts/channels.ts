import "server-only";
import { randomBytes } from "node:crypto";
import { and, asc, count, eq } from "drizzle-orm";
import { type Db, type Tx, transaction } from "@/db/client";
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
  const view = await insertChannel(db, actor, input.tenantId, input.name, async (tx, row) => {
    const webhookSealed = seal(JSON.stringify({ url: input.url.href, secret }), webhookContext(row));
    await tx.update(alertChannels).set({ webhookSealed }).where(eq(alertChannels.id, row.id));
    return { kind: "webhook", webhookHost: input.url.host };
  });
  return { view, secret };
}

/** An email channel: its recipients and the mailbox it sends from (one of the tenant's, or the portal's sender). */
export async function createEmailChannel(
  db: Db,
  actor: UserActor,
  input: CreateEmailChannelInput,
): Promise<AlertChannelView> {
  assertTenantAccess(actor, input.tenantId);
  const senderId = input.senderMailboxId;
  if (senderId === null && getEnv().ALERT_SENDER_MAILBOX === undefined) {
    throw new UserError(
      "This portal has no alert sender of its own: choose one of the tenant's mailboxes.",
      "senderMailboxId",
    );
  }
  if (senderId !== null) {
    const sender = (
      await db
        .select({ type: mailboxes.type })
        .from(mailboxes)
        .where(and(eq(mailboxes.id, senderId), eq(mailboxes.tenantId, input.tenantId)))
    )[0];
    if (!sender) throw new UserError("Choose a mailbox of this tenant.", "senderMailboxId");
    if (!usesSmtp(sender.type)) throw new UserError("Choose a mailbox that sends (Type SMTP).", "senderMailboxId");
  }
  return insertChannel(db, actor, input.tenantId, input.name, async () => ({
    kind: "email",
    recipients: input.recipients,
    senderMailboxId: senderId,
    portalSender: senderId === null,
  }));
}

async function insertChannel(
  db: Db,
  actor: UserActor,
  tenantId: number,
  name: string,
  complete: (tx: Tx, row: AlertChannel) => Promise<Pick<AlertChannel, "kind"> & Partial<AlertChannel>>,
): Promise<AlertChannelView> {
  return transaction(db, async (tx) => {
    const n =
      (await tx.select({ n: count() }).from(alertChannels).where(eq(alertChannels.tenantId, tenantId)))[0]?.n ?? 0;
    if (n >= MAX_CHANNELS_PER_TENANT) {
      throw new UserError(`This tenant has ${n} alert channels, the most it may have. Delete one first.`);
    }
    const clash = (
      await tx
        .select({ id: alertChannels.id })
        .from(alertChannels)
        .where(and(eq(alertChannels.tenantId, tenantId), eq(alertChannels.name, name)))
    )[0];
    if (clash) throw new UserError(`This tenant already has an alert channel named "${name}".`, "name");
    const row = (
      await tx
        .insert(alertChannels)
        .values({ tenantId, name, kind: "email", createdBy: actor.email, createdAt: new Date() })
        .returning()
    )[0]!;
    const rest = await complete(tx, row);
    await tx.update(alertChannels).set(rest).where(eq(alertChannels.id, row.id));
    const channel = (await tx.select().from(alertChannels).where(eq(alertChannels.id, row.id)))[0]!;
    await recordAudit(tx, actor, {
      tenantId,
      action: "alert_channel.create",
      targetType: "alert_channel",
      targetId: row.id,
      targetLabel: name,
      changes: describeTarget(channel),
    });
    return withSenderName(tx, channel);
  });
}

export async function listAlertChannels(db: Db, actor: UserActor, tenantId: number): Promise<AlertChannelView[]> {
  assertTenantAccess(actor, tenantId);
  const rows = await db
    .select()
    .from(alertChannels)
    .where(eq(alertChannels.tenantId, tenantId))
    .orderBy(asc(alertChannels.name));
  return Promise.all(rows.map(async (row) => withSenderName(db, row)));
}

/** One of the actor's tenant's channels, or NotFoundError (another tenant's channel does not exist for it). */
export async function getAlertChannelFor(
  db: Db | Tx,
  actor: UserActor,
  tenantId: number,
  channelId: number,
): Promise<AlertChannel> {
  assertTenantAccess(actor, tenantId);
  const row = (
    await db
      .select()
      .from(alertChannels)
      .where(and(eq(alertChannels.id, channelId), eq(alertChannels.tenantId, tenantId)))
  )[0];
  if (!row) throw new NotFoundError();
  return row;
}

export async function deleteAlertChannel(
  db: Db,
  actor: UserActor,
  tenantId: number,
  channelId: number,
): Promise<AlertChannelView> {
  return transaction(db, async (tx) => {
    const row = await getAlertChannelFor(tx, actor, tenantId, channelId);
    await tx.delete(alertChannels).where(eq(alertChannels.id, row.id));
    await recordAudit(tx, actor, {
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

async function withSenderName(db: Db | Tx, row: AlertChannel): Promise<AlertChannelView> {
  const { webhookSealed: _sealed, ...view } = row;
  const senderId = row.portalSender ? (getEnv().ALERT_SENDER_MAILBOX ?? null) : row.senderMailboxId;
  const sender =
    senderId === null
      ? undefined
      : (
          await db
            .select({ name: mailboxes.name, login: mailboxes.login })
            .from(mailboxes)
            .where(eq(mailboxes.id, senderId))
        )[0];
  const senderName = sender
    ? row.portalSender
      ? `the portal's alert sender (${sender.login})`
      : `${sender.name} (${sender.login})`
    : null;
  return { ...view, senderName };
}
