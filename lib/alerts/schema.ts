import { z } from "zod";

const id = z.coerce.number().int().positive();
const MAX_RECIPIENTS = 20;

const channelName = z
  .string({ error: "Name the channel, e.g. Operations on Teams." })
  .trim()
  .min(1, "Name the channel, e.g. Operations on Teams.")
  .max(100, "Use at most 100 characters.");

/**
 * A webhook URL as typed: https only, no user name or password in it, at most 2,048 characters.
 * Whether its host may be reached is decided at save by the network guard.
 */
const webhookUrl = z
  .string({ error: "Enter the webhook URL." })
  .trim()
  .min(1, "Enter the webhook URL.")
  .max(2048, "Use at most 2,048 characters.")
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "Enter a full URL starting with https://." });
      return z.NEVER;
    }
    if (url.protocol !== "https:") {
      ctx.addIssue({ code: "custom", message: "Use an https:// URL: alerts are never sent unencrypted." });
      return z.NEVER;
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: "custom", message: "Leave the user name and password out of the URL." });
      return z.NEVER;
    }
    url.hash = "";
    return url;
  });

export const createWebhookChannelSchema = z.object({
  tenantId: id,
  name: channelName,
  url: webhookUrl,
});
export type CreateWebhookChannelInput = z.infer<typeof createWebhookChannelSchema>;

/** Addresses separated by commas, semicolons or new lines. */
const recipients = z
  .string({ error: "Enter at least one address." })
  .transform((value) => [
    ...new Set(
      value
        .split(/[\s,;]+/)
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    ),
  ])
  .pipe(
    z
      .array(z.email({ error: (issue) => `${String(issue.input)} is not an email address.` }))
      .min(1, "Enter at least one address.")
      .max(MAX_RECIPIENTS, `Enter at most ${MAX_RECIPIENTS} addresses.`),
  );

export const createEmailChannelSchema = z.object({
  tenantId: id,
  name: channelName,
  recipients,
  // Empty: the portal's alert sender (ALERT_SENDER_MAILBOX).
  senderMailboxId: z.preprocess((v) => (v === "" || v === undefined ? null : v), id.nullable()),
});
export type CreateEmailChannelInput = z.infer<typeof createEmailChannelSchema>;

export const channelRefSchema = z.object({ tenantId: id, channelId: id });
