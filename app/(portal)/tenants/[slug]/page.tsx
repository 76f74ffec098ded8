import type { Metadata } from "next";
import Link from "next/link";
import {
  ActionForm,
  CheckboxGroupField,
  Field,
  MultiSelectField,
  SelectField,
  TextAreaField,
} from "@/app/_components/action-form";
import { ListSearch, listHref, Pager } from "@/app/_components/pager";
import { getDb } from "@/db/client";
import { API_SCOPES } from "@/db/schema";
import { listAlertChannels } from "@/lib/alerts/channels";
import { listApiKeys } from "@/lib/api-keys/keys";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { usesSmtp } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { formatUtc } from "@/lib/format-time";
import { loadOr404 } from "@/lib/load-or-404";
import { CLOUD_OPTIONS, MAILBOX_FIELDS, MAILBOX_TYPE_LABELS, SIGN_IN_METHOD_LABELS } from "@/lib/mailbox/fields";
import { listMailboxesFor, listMailboxesPage } from "@/lib/mailbox/queries";
import { PAGE_SIZE, pageParam } from "@/lib/paging";
import { recentEntraSetup } from "@/lib/service/entra-setups";
import { lastTestsFor } from "@/lib/service/test-history";
import { getTenantBySlugFor } from "@/lib/tenants/queries";
import { listUsersPage } from "@/lib/users/queries";
import {
  createApiKeyAction,
  createEmailChannelAction,
  createWebhookChannelAction,
  deleteAlertChannelAction,
  renameTenantAction,
  revokeApiKeyAction,
  saveTenantDefaultsAction,
  saveTenantMonitoringAction,
  sendTestAlertAction,
} from "../actions";
import { OutcomeBadge } from "./mailboxes/[mailboxId]/outcome-badge";
import { EntraSetup } from "./mailboxes/entra-setup";

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ deleted?: string; q?: string; page?: string }>;
};

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await params).slug };
}

export default async function TenantPage({ params, searchParams }: Props) {
  const actor = await requireActor();
  const { slug } = await params;
  const db = getDb();
  const tenant = loadOr404(() => getTenantBySlugFor(db, actor, slug));
  const admins = listUsersPage(db, actor, { tenantId: tenant.id }).rows;
  const query = await searchParams;
  const q = query.q?.slice(0, 100) ?? "";
  // Every mailbox for the forms' choices (at most MAX_MAILBOXES_PER_TENANT); a page of them for the list.
  const mailboxes = listMailboxesFor(db, actor, tenant.id);
  const listed = listMailboxesPage(db, actor, tenant.id, { q, page: pageParam(query.page) });
  const lastTests = lastTestsFor(
    db,
    listed.rows.map((m) => m.id),
  );
  const keys = listApiKeys(db, actor, tenant.id);
  const channels = listAlertChannels(db, actor, tenant.id);
  const senders = [
    ...mailboxes.filter((m) => usesSmtp(m.type)).map((m) => ({ value: String(m.id), label: `${m.name} (${m.login})` })),
    ...(getEnv().ALERT_SENDER_MAILBOX ? [{ value: "", label: "The portal's alert sender" }] : []),
  ];
  const mailboxNames = new Map(mailboxes.map((m) => [m.id, m.name]));
  const { deleted } = query;
  return (
    <>
      <p className="breadcrumbs">
        {isSuperAdmin(actor) && (
          <Link prefetch={false} href="/tenants">
            Tenants
          </Link>
        )}
      </p>
      <h1>{tenant.name}</h1>
      <p className="muted">
        Slug <code>{tenant.slug}</code>
      </p>

      {deleted && <p className="notice">Mailbox {deleted} deleted.</p>}
      <section aria-labelledby="mailboxes">
        <div className="section-head">
          <h2 id="mailboxes">Mailboxes</h2>
          <Link prefetch={false} className="button" href={`/tenants/${tenant.slug}/mailboxes/new`}>
            Add mailbox
          </Link>
        </div>
        {mailboxes.length > PAGE_SIZE && (
          <ListSearch action={`/tenants/${tenant.slug}`} id="mailbox-search" q={q} placeholder="Name or login" />
        )}
        {listed.rows.length === 0 ? (
          <p className="empty">{q ? "No mailboxes match." : "No mailboxes are configured for this tenant yet."}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Login</th>
                <th scope="col">Type</th>
                <th scope="col">Sign-in</th>
                <th scope="col">Last test</th>
              </tr>
            </thead>
            <tbody>
              {listed.rows.map((mailbox) => (
                <tr key={mailbox.id}>
                  <td>
                    <Link prefetch={false} href={`/tenants/${tenant.slug}/mailboxes/${mailbox.id}`}>
                      {mailbox.name}
                    </Link>
                  </td>
                  <td>{mailbox.login}</td>
                  <td>{MAILBOX_TYPE_LABELS[mailbox.type]}</td>
                  <td>
                    {SIGN_IN_METHOD_LABELS[mailbox.method].short}
                    {mailbox.missing && <span className="badge badge-off">{mailbox.missing}</span>}
                  </td>
                  <td>
                    <OutcomeBadge test={lastTests.get(mailbox.id)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager
          page={listed.page}
          pages={listed.pages}
          href={(page) => listHref(`/tenants/${tenant.slug}`, { q }, page)}
        />
      </section>

      <section aria-labelledby="admins">
        <h2 id="admins">Tenant admins</h2>
        {admins.length === 0 ? (
          <p className="empty">
            No tenant admins yet.{" "}
            <Link prefetch={false} href="/users">
              Add one on the Users page.
            </Link>
          </p>
        ) : (
          <ul className="plain">
            {admins.map((user) => (
              <li key={user.id}>
                {user.name} &lt;{user.email}&gt;{user.disabled && <span className="badge badge-off">disabled</span>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="defaults">
        <h2 id="defaults">Default app registration</h2>
        <p className="hint">
          New mailboxes of this tenant start with these Azure fields; each mailbox can change them.
        </p>
        <ActionForm action={saveTenantDefaultsAction} submitLabel="Save defaults">
          <input type="hidden" name="tenantId" value={tenant.id} />
          <Field
            name="azureClientId"
            label={MAILBOX_FIELDS.azureClientId.label}
            hint={MAILBOX_FIELDS.azureClientId.help}
            defaultValue={tenant.defaultAzureClientId ?? undefined}
            autoComplete="off"
            maxLength={100}
          />
          <Field
            name="azureTenantId"
            label={MAILBOX_FIELDS.azureTenantId.label}
            hint={MAILBOX_FIELDS.azureTenantId.help}
            defaultValue={tenant.defaultAzureTenantId ?? undefined}
            autoComplete="off"
            maxLength={253}
          />
          <SelectField
            name="cloud"
            label={MAILBOX_FIELDS.cloud.label}
            hint={MAILBOX_FIELDS.cloud.help}
            options={CLOUD_OPTIONS}
            defaultValue={tenant.defaultCloud ?? "global"}
          />
        </ActionForm>
      </section>

      <EntraSetup
        api={`/api/tenants/${tenant.slug}/entra-setup`}
        target="tenant"
        domain={tenant.defaultAzureTenantId ?? ""}
        initial={recentEntraSetup(db, { tenantId: tenant.id, mailboxId: null })}
        clouds={CLOUD_OPTIONS}
        cloud={tenant.defaultCloud ?? "global"}
      />

      <section aria-labelledby="monitoring">
        <h2 id="monitoring">Monitoring</h2>
        <p className="hint">
          Navigator Mail tests the tenant&apos;s mailboxes on its own: a light test signs in to SMTP and IMAP, a full
          test sends and receives a message. A mailbox can set its own schedule. After Microsoft refuses a password,
          that mailbox is not tried again until its settings change.
        </p>
        <ActionForm action={saveTenantMonitoringAction} submitLabel="Save monitoring">
          <input type="hidden" name="tenantId" value={tenant.id} />
          <SelectField
            name="monitorLight"
            label="Light test"
            options={FREQUENCIES}
            defaultValue={tenant.monitorLight}
          />
          <SelectField name="monitorFull" label="Full test" options={FREQUENCIES} defaultValue={tenant.monitorFull} />
        </ActionForm>
      </section>

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
                    <ActionForm
                      action={sendTestAlertAction}
                      submitLabel="Send test alert"
                      pendingLabel="Sending…"
                      inline
                    >
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
          A Teams or Slack incoming webhook shows the alert&apos;s <code>text</code>; any other receiver gets the JSON
          and can check its <code>X-Signature</code> (HMAC-SHA256 of the body with the channel&apos;s secret).
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
          <TextAreaField
            name="recipients"
            label="Send to"
            hint="Up to 20 addresses, separated by commas or new lines."
          />
          <SelectField
            name="senderMailboxId"
            label="Send from"
            hint="The alert is sent by this mailbox, signed in like its tests."
            options={senders}
            defaultValue={senders[0]?.value}
          />
        </ActionForm>
      </section>

      <section aria-labelledby="api-keys">
        <h2 id="api-keys">API keys</h2>
        <p className="hint">
          A business system uses a key to read mailbox settings, get short-lived access tokens and run tests through{" "}
          <a href="/api/v1/openapi.json">the API</a>. Keys work for this tenant only and only on /api/v1.
        </p>
        {keys.length === 0 ? (
          <p className="empty">No API keys yet.</p>
        ) : (
          <table className="api-keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Permissions</th>
                <th scope="col">Mailboxes</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} data-key={key.publicId}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.publicId}_…</code>
                  </td>
                  <td>{key.scopes.join(", ")}</td>
                  <td>
                    {key.mailboxIds ? key.mailboxIds.map((id) => mailboxNames.get(id) ?? `#${id}`).join(", ") : "All"}
                  </td>
                  <td>{key.expiresAt ? formatUtc(key.expiresAt).slice(0, 10) : "Never"}</td>
                  <td>
                    {key.lastUsedAt
                      ? `${formatUtc(key.lastUsedAt)} UTC from ${key.lastUsedFrom || "unknown"}`
                      : "Never"}
                  </td>
                  <td>
                    {key.state === "active" ? (
                      <ActionForm action={revokeApiKeyAction} submitLabel="Revoke" pendingLabel="Revoking…" inline>
                        <input type="hidden" name="tenantId" value={tenant.id} />
                        <input type="hidden" name="keyId" value={key.id} />
                      </ActionForm>
                    ) : (
                      <span className="badge badge-off">{key.state}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>Create an API key</h3>
        <ActionForm action={createApiKeyAction} submitLabel="Create API key" pendingLabel="Creating…">
          <input type="hidden" name="tenantId" value={tenant.id} />
          <Field name="name" label="Name" hint="The system that uses it, e.g. ERP production." maxLength={100} />
          <CheckboxGroupField
            name="scopes"
            legend="Permissions"
            options={API_SCOPES.map((scope) => ({ value: scope, label: SCOPE_LABELS[scope] }))}
          />
          <MultiSelectField
            name="mailboxIds"
            label="Only these mailboxes"
            hint="Choose none for every mailbox of the tenant."
            options={mailboxes.map((m) => ({ value: String(m.id), label: m.name }))}
          />
          <Field name="expiresAt" label="Expires on" hint="Leave empty for a key that does not expire." type="date" />
        </ActionForm>
      </section>

      {isSuperAdmin(actor) && (
        <section aria-labelledby="rename">
          <h2 id="rename">Rename</h2>
          <ActionForm action={renameTenantAction} submitLabel="Rename">
            <input type="hidden" name="tenantId" value={tenant.id} />
            <Field name="name" label="Name" defaultValue={tenant.name} maxLength={100} />
          </ActionForm>
        </section>
      )}
    </>
  );
}

const FREQUENCIES = [
  { value: "off", label: "Off" },
  { value: "hourly", label: "Hourly" },
  { value: "daily", label: "Daily" },
];

const SCOPE_LABELS: Record<(typeof API_SCOPES)[number], string> = {
  "mailboxes:read": "mailboxes:read: read mailbox settings (never secrets)",
  "tokens:issue": "tokens:issue: get access tokens for SMTP and IMAP",
  "tests:run": "tests:run: run end-to-end tests",
};
