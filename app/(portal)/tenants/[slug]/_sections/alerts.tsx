import Link from "next/link";
import { ActionForm, Field, SelectField, TextAreaField } from "@/app/_components/action-form";
import { listAlertChannels } from "@/lib/alerts/channels";
import { usesSmtp } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { formatUtc } from "@/lib/format-time";
import {
  createEmailChannelAction,
  createWebhookChannelAction,
  deleteAlertChannelAction,
  sendTestAlertAction,
} from "../../actions";
import type { TenantSectionProps } from "./props";

/** The tenant's alert channels, each with its last delivery, and the forms that add one. */
export async function AlertsSection({ db, actor, tenant, mailboxes }: TenantSectionProps) {
  const channels = await listAlertChannels(db, actor, tenant.id);
  const senders = [
    ...mailboxes.filter((m) => usesSmtp(m.type)).map((m) => ({ value: String(m.id), label: `${m.name} (${m.login})` })),
    ...(getEnv().ALERT_SENDER_MAILBOX ? [{ value: "", label: "The portal's alert sender" }] : []),
  ];
  return (
    <section aria-labelledby="alerts">
      <div className="section-head">
        <h2 id="alerts">Alerts</h2>
        <Link prefetch={false} href={`/alerts?tenant=${tenant.slug}`}>
          Alert history
        </Link>
      </div>
      <p className="hint">
        When a mailbox starts failing, needs &quot;Sign in again&quot;, or its client secret or certificate expires
        within 14 days, and when it works again, Navigator Mail alerts every channel below, with a reminder every 24
        hours while a mailbox stays broken.
      </p>
      {channels.length === 0 ? (
        <p className="empty">No alert channels yet: alerts are kept in the history only.</p>
      ) : (
        <table className="alert-channels">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Sends to</th>
              <th scope="col">Last delivery</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {channels.map((channel) => (
              <tr key={channel.id} data-channel={channel.name}>
                <td>{channel.name}</td>
                <td>
                  {channel.kind === "webhook"
                    ? `Webhook to ${channel.webhookHost}`
                    : `Email to ${(channel.recipients ?? []).join(", ")}, from ${channel.senderName ?? "a deleted mailbox"}`}
                </td>
                <td>
                  {channel.lastDeliveryAt ? (
                    <>
                      <span className={`badge ${channel.lastDeliveryOk ? "delivery-ok" : "delivery-failing"}`}>
                        {channel.lastDeliveryOk ? "Delivered" : "Failing"}
                      </span>{" "}
                      {formatUtc(channel.lastDeliveryAt)} UTC
                      {channel.lastError && <span className="hint"> {channel.lastError}</span>}
                    </>
                  ) : (
                    "Never"
                  )}
                </td>
                <td className="actions">
                  <ActionForm action={sendTestAlertAction} submitLabel="Send test alert" pendingLabel="Sending…" inline>
                    <input type="hidden" name="tenantId" value={tenant.id} />
                    <input type="hidden" name="channelId" value={channel.id} />
                  </ActionForm>
                  <ActionForm action={deleteAlertChannelAction} submitLabel="Delete" pendingLabel="Deleting…" inline>
                    <input type="hidden" name="tenantId" value={tenant.id} />
                    <input type="hidden" name="channelId" value={channel.id} />
                  </ActionForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Add a webhook</h3>
      <p className="hint">
        A Teams or Slack incoming webhook shows the alert&apos;s <code>text</code>; any other receiver gets the JSON and
        can check its <code>X-Signature</code> (HMAC-SHA256 of the body with the channel&apos;s secret).
      </p>
      <ActionForm action={createWebhookChannelAction} submitLabel="Add webhook" pendingLabel="Checking…">
        <input type="hidden" name="tenantId" value={tenant.id} />
        <Field name="name" label="Name" hint="e.g. Operations on Teams." maxLength={100} />
        <Field
          name="url"
          label="Webhook URL"
          hint="https only; it must resolve to a public address."
          maxLength={2048}
          autoComplete="off"
        />
      </ActionForm>
      <h3>Add email recipients</h3>
      <ActionForm action={createEmailChannelAction} submitLabel="Add email channel" pendingLabel="Adding…">
        <input type="hidden" name="tenantId" value={tenant.id} />
        <Field name="name" label="Name" hint="e.g. IT team." maxLength={100} />
        <TextAreaField name="recipients" label="Send to" hint="Up to 20 addresses, separated by commas or new lines." />
        <SelectField
          name="senderMailboxId"
          label="Send from"
          hint="The alert is sent by this mailbox, signed in like its tests."
          options={senders}
          defaultValue={senders[0]?.value}
        />
      </ActionForm>
    </section>
  );
}
