"use client";

import { ActionForm, CheckboxField, Field, SelectField, TextAreaField } from "@/app/_components/action-form";
import type { MonitorFrequency } from "@/db/schema";
import type { ActionResult } from "@/lib/action-result";
import { CLOUD_PROFILES } from "@/lib/engine/settings";
import { formatUtc } from "@/lib/format-time";
import {
  CLOUD_OPTIONS,
  FREQUENCY_OPTIONS,
  MAIL_TRANSPORT_LABELS,
  MAILBOX_TYPE_LABELS,
  MONITOR_FREQUENCY_LABELS,
  SIGN_IN_METHOD_LABELS,
} from "@/lib/mailbox/fields";
import type { MailboxView } from "@/lib/mailbox/queries";
import type { MailboxFormText } from "./mailbox-form-text";

export const MAILBOX_FORM_ID = "mailbox-settings";

type Props = {
  /** The form's static words (labels, help, notes), rendered on the server: MAILBOX_FORM_TEXT. */
  text: MailboxFormText;
  action: (previous: ActionResult | null, formData: FormData) => Promise<ActionResult>;
  tenantId: number;
  /** The tenant's monitoring, which the mailbox follows unless it says otherwise. */
  tenantMonitoring: { monitorLight: MonitorFrequency; monitorFull: MonitorFrequency };
  mailbox?: MailboxView;
  /** The tenant's default app registration, for a new mailbox. */
  defaults?: Partial<Pick<MailboxView, "azureClientId" | "azureTenantId">> & { cloud?: MailboxView["cloud"] | null };
};

const TYPE_OPTIONS = Object.entries(MAILBOX_TYPE_LABELS).map(([value, label]) => ({ value, label }));
const TRANSPORT_OPTIONS = Object.entries(MAIL_TRANSPORT_LABELS).map(([value, label]) => ({ value, label }));
function frequencyOptions(tenant: MonitorFrequency) {
  return [
    { value: "", label: `As the tenant (${MONITOR_FREQUENCY_LABELS[tenant].toLowerCase()})` },
    ...FREQUENCY_OPTIONS,
  ];
}

const METHOD_OPTIONS = Object.entries(SIGN_IN_METHOD_LABELS).flatMap(([value, { choice }]) =>
  choice ? [{ value, label: choice }] : [],
);

export function MailboxForm({ action, tenantId, tenantMonitoring, mailbox, defaults, text: { fields, notes } }: Props) {
  const text = (value: string | number | null | undefined) =>
    value === null || value === undefined ? undefined : String(value);
  return (
    <ActionForm
      id={MAILBOX_FORM_ID}
      action={action}
      submitLabel={mailbox ? "Save changes" : "Create mailbox"}
      className="form wide"
    >
      <input type="hidden" name="tenantId" value={tenantId} />
      {mailbox && <input type="hidden" name="mailboxId" value={mailbox.id} />}
      {mailbox && <input type="hidden" name="version" value={mailbox.version} />}

      <fieldset>
        <legend>Mailbox</legend>
        <Field
          name="name"
          label={fields.name.label}
          hint={fields.name.help}
          defaultValue={mailbox?.name}
          maxLength={100}
        />
        <SelectField
          name="type"
          label={fields.type.label}
          hint={fields.type.help}
          options={TYPE_OPTIONS}
          defaultValue={mailbox?.type ?? "smtp_imap"}
        />
        <SelectField
          name="transport"
          label={fields.transport.label}
          hint={fields.transport.help}
          options={TRANSPORT_OPTIONS}
          defaultValue={mailbox?.transport ?? "smtp_imap"}
        />
        <p className="hint transport-graph">{notes.graph}</p>
      </fieldset>

      <fieldset>
        <legend>Sign-in</legend>
        <SelectField
          name="signInMethod"
          label={fields.signInMethod.label}
          hint={fields.signInMethod.help}
          options={METHOD_OPTIONS}
          defaultValue={mailbox?.signInMethod === "basic" ? "password" : (mailbox?.signInMethod ?? "password")}
        />
        <p className="notice method-password">{notes.password}</p>
        <p id="microsoft-sign-in-method" className="hint method-device">
          {notes.device}
        </p>
        <Field
          name="login"
          label={fields.login.label}
          hint={fields.login.help}
          defaultValue={mailbox?.login}
          type="email"
          autoComplete="off"
          maxLength={254}
        />
        <div className="method-password">
          <Field
            name="password"
            label={fields.password.label}
            hint={fields.password.help}
            type="password"
            autoComplete="new-password"
            placeholder={mailbox?.passwordState === "set" ? "Leave empty to keep the stored password" : undefined}
          >
            <PasswordStatus mailbox={mailbox} />
          </Field>
          {mailbox && mailbox.passwordState !== "none" && (
            <CheckboxField
              name="clearPassword"
              label="Remove the stored password"
              hint="The mailbox then has no password until one is entered."
            />
          )}
        </div>
      </fieldset>

      <fieldset id="identities">
        <legend>Mailbox and sender</legend>
        <Field
          name="mailboxAddress"
          label={fields.mailboxAddress.label}
          hint={fields.mailboxAddress.help}
          defaultValue={text(mailbox?.mailboxAddress)}
          type="email"
          autoComplete="off"
          maxLength={254}
        />
        <Field
          name="sendAs"
          label={fields.sendAs.label}
          hint={fields.sendAs.help}
          defaultValue={text(mailbox?.sendAs)}
          type="email"
          autoComplete="off"
          maxLength={254}
        />
      </fieldset>

      <fieldset id="app-only" className="method-app">
        <legend>App-only credential</legend>
        <p className="hint">{notes.appOnly}</p>
        <AppCredentialStatus mailbox={mailbox} />
        <Field
          name="clientSecret"
          label={fields.clientSecret.label}
          hint={fields.clientSecret.help}
          type="password"
          autoComplete="new-password"
          placeholder={mailbox?.appCredentialState === "secret" ? "Leave empty to keep the stored secret" : undefined}
        />
        <Field
          name="clientSecretExpiresAt"
          label={fields.clientSecretExpiresAt.label}
          hint={fields.clientSecretExpiresAt.help}
          type="date"
        />
        <TextAreaField
          name="certificatePem"
          label={fields.certificatePem.label}
          hint={fields.certificatePem.help}
          placeholder="-----BEGIN CERTIFICATE-----"
        />
        <TextAreaField
          name="privateKeyPem"
          label={fields.privateKeyPem.label}
          hint={fields.privateKeyPem.help}
          placeholder="-----BEGIN PRIVATE KEY-----"
          secret
        />
      </fieldset>

      <fieldset>
        <legend>Servers</legend>
        <SelectField
          name="cloud"
          label={fields.cloud.label}
          hint={fields.cloud.help}
          options={CLOUD_OPTIONS}
          defaultValue={mailbox?.cloud ?? defaults?.cloud ?? "global"}
        />
        <p className="transport-smtp-imap">
          <button type="button" className="secondary" onClick={fillMicrosoft365}>
            Fill in the Microsoft 365 servers
          </button>
        </p>
        <div className="pair transport-smtp-imap">
          <Field
            name="smtpHost"
            label={fields.smtpHost.label}
            hint={fields.smtpHost.help}
            defaultValue={text(mailbox?.smtpHost)}
            maxLength={253}
          />
          <Field
            name="smtpPort"
            label={fields.smtpPort.label}
            hint={fields.smtpPort.help}
            defaultValue={text(mailbox?.smtpPort)}
            inputMode="numeric"
            maxLength={5}
          />
        </div>
        <div className="pair transport-smtp-imap">
          <Field
            name="imapHost"
            label={fields.imapHost.label}
            hint={fields.imapHost.help}
            defaultValue={text(mailbox?.imapHost)}
            maxLength={253}
          />
          <Field
            name="imapPort"
            label={fields.imapPort.label}
            hint={fields.imapPort.help}
            defaultValue={text(mailbox?.imapPort)}
            inputMode="numeric"
            maxLength={5}
          />
        </div>
        <div className="transport-smtp-imap">
          <CheckboxField
            name="useTls"
            label={fields.useTls.label}
            hint={fields.useTls.help}
            defaultChecked={mailbox?.useTls ?? true}
          />
        </div>
      </fieldset>

      <fieldset>
        <legend>Monitoring</legend>
        <p className="hint">{notes.monitoring}</p>
        <div className="pair">
          <SelectField
            name="monitorLight"
            label="Light test"
            options={frequencyOptions(tenantMonitoring.monitorLight)}
            defaultValue={mailbox?.monitorLight ?? ""}
          />
          <SelectField
            name="monitorFull"
            label="Full test"
            options={frequencyOptions(tenantMonitoring.monitorFull)}
            defaultValue={mailbox?.monitorFull ?? ""}
          />
        </div>
      </fieldset>

      <fieldset>
        <legend>Microsoft Entra app registration</legend>
        <p className="hint">{notes.azure}</p>
        <Field
          name="azureClientId"
          label={fields.azureClientId.label}
          hint={fields.azureClientId.help}
          defaultValue={text(mailbox ? mailbox.azureClientId : defaults?.azureClientId)}
          autoComplete="off"
          maxLength={100}
        />
        <Field
          name="azureTenantId"
          label={fields.azureTenantId.label}
          hint={fields.azureTenantId.help}
          defaultValue={text(mailbox ? mailbox.azureTenantId : defaults?.azureTenantId)}
          autoComplete="off"
          maxLength={253}
        />
      </fieldset>
    </ActionForm>
  );
}

/** Which app-only credential is stored and when it expires; within 30 days it says so loudly. */
function AppCredentialStatus({ mailbox }: { mailbox?: MailboxView }) {
  if (!mailbox || mailbox.appCredentialState === "none")
    return <p className="status">No client secret or certificate stored.</p>;
  const what = mailbox.appCredentialState === "secret" ? "Client secret" : "Certificate";
  const expires = mailbox.appCredentialExpiresAt;
  const days = expires ? Math.floor((expires.getTime() - Date.now()) / 86_400_000) : null;
  const by = mailbox.appCredentialChangedBy ? ` by ${mailbox.appCredentialChangedBy}` : "";
  const at = mailbox.appCredentialChangedAt ? ` on ${formatUtc(mailbox.appCredentialChangedAt)} UTC` : "";
  const expiry = expires ? ` It expires on ${formatUtc(expires).slice(0, 10)}.` : "";
  const warn = days !== null && days <= 30;
  return (
    <p className={warn ? "status warn" : "status ok"} role={warn ? "alert" : undefined}>
      {what} set{at}
      {by}.{expiry}
      {warn &&
        (days < 0
          ? " It has expired: enter a new one."
          : ` That is in ${days} day${days === 1 ? "" : "s"}: renew it now.`)}
    </p>
  );
}

function PasswordStatus({ mailbox }: { mailbox?: MailboxView }) {
  if (!mailbox || mailbox.passwordState === "none") return <p className="status">No password stored.</p>;
  if (mailbox.passwordState === "unreadable") {
    return (
      <p className="status warn" role="alert">
        The stored password can no longer be decrypted (its encryption key is not configured). Enter the password again.
      </p>
    );
  }
  const at = mailbox.passwordChangedAt && formatUtc(mailbox.passwordChangedAt);
  return (
    <p className="status ok">
      Password set{at ? ` on ${at} UTC` : ""}
      {mailbox.passwordChangedBy ? ` by ${mailbox.passwordChangedBy}` : ""}.
    </p>
  );
}

function fillMicrosoft365(event: React.MouseEvent<HTMLButtonElement>) {
  const form = event.currentTarget.form;
  if (!form) return;
  const input = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  const profile =
    CLOUD_PROFILES[(input("cloud")?.value ?? "global") as keyof typeof CLOUD_PROFILES] ?? CLOUD_PROFILES.global;
  const set = (name: string, value: string) => {
    const element = input(name);
    if (element) element.value = value;
  };
  set("smtpHost", profile.smtp.host);
  set("smtpPort", String(profile.smtp.port));
  set("imapHost", profile.imap.host);
  set("imapPort", String(profile.imap.port));
  const tls = input("useTls") as HTMLInputElement | null;
  if (tls) tls.checked = true;
}
