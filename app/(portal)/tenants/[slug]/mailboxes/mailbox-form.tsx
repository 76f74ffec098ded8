"use client";

import { ActionForm, CheckboxField, Field, SelectField, TextAreaField } from "@/app/_components/action-form";
import type { MonitorFrequency } from "@/db/schema";
import type { ActionResult } from "@/lib/action-result";
import { CLOUD_PROFILES } from "@/lib/engine/settings";
import { formatUtc } from "@/lib/format-time";
import {
  CLOUD_OPTIONS,
  MAILBOX_FIELDS as F,
  FREQUENCY_OPTIONS,
  MAILBOX_TYPE_LABELS,
  MONITOR_FREQUENCY_LABELS,
  SIGN_IN_METHOD_LABELS,
} from "@/lib/mailbox/fields";
import type { MailboxView } from "@/lib/mailbox/queries";

export const MAILBOX_FORM_ID = "mailbox-settings";

type Props = {
  action: (previous: ActionResult | null, formData: FormData) => Promise<ActionResult>;
  tenantId: number;
  /** The tenant's monitoring, which the mailbox follows unless it says otherwise. */
  tenantMonitoring: { monitorLight: MonitorFrequency; monitorFull: MonitorFrequency };
  mailbox?: MailboxView;
  /** The tenant's default app registration, for a new mailbox. */
  defaults?: Partial<Pick<MailboxView, "azureClientId" | "azureTenantId">> & { cloud?: MailboxView["cloud"] | null };
};

const TYPE_OPTIONS = Object.entries(MAILBOX_TYPE_LABELS).map(([value, label]) => ({ value, label }));
function frequencyOptions(tenant: MonitorFrequency) {
  return [
    { value: "", label: `As the tenant (${MONITOR_FREQUENCY_LABELS[tenant].toLowerCase()})` },
    ...FREQUENCY_OPTIONS,
  ];
}

const METHOD_OPTIONS = Object.entries(SIGN_IN_METHOD_LABELS).flatMap(([value, { choice }]) =>
  choice ? [{ value, label: choice }] : [],
);

export function MailboxForm({ action, tenantId, tenantMonitoring, mailbox, defaults }: Props) {
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
        <Field name="name" label={F.name.label} hint={F.name.help} defaultValue={mailbox?.name} maxLength={100} />
        <SelectField
          name="type"
          label={F.type.label}
          hint={F.type.help}
          options={TYPE_OPTIONS}
          defaultValue={mailbox?.type ?? "smtp_imap"}
        />
      </fieldset>

      <fieldset>
        <legend>Sign-in</legend>
        <SelectField
          name="signInMethod"
          label={F.signInMethod.label}
          hint={F.signInMethod.help}
          options={METHOD_OPTIONS}
          defaultValue={mailbox?.signInMethod === "basic" ? "password" : (mailbox?.signInMethod ?? "password")}
        />
        <p className="notice method-password">
          Microsoft is retiring sign-in with a user&apos;s password for apps, and multi-factor authentication or
          Conditional Access on the account blocks it. If that applies to this mailbox, choose{" "}
          <a href="#microsoft-sign-in-method">Microsoft sign-in</a> or <a href="#app-only">App-only</a>.
        </p>
        <p id="microsoft-sign-in-method" className="hint method-device">
          Microsoft sign-in uses the same app registration (Allow public client flows = Yes, the delegated SMTP.Send and
          IMAP.AccessAsUser.All permissions). After saving, press Sign in with Microsoft on this page and sign in as the
          Login, with MFA if the account has it. No password is stored; Navigator Mail keeps and renews the sign-in.
        </p>
        <Field
          name="login"
          label={F.login.label}
          hint={F.login.help}
          defaultValue={mailbox?.login}
          type="email"
          autoComplete="off"
          maxLength={254}
        />
        <div className="method-password">
          <Field
            name="password"
            label={F.password.label}
            hint={F.password.help}
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

      <fieldset id="app-only" className="method-app">
        <legend>App-only credential</legend>
        <p className="hint">
          The app registration signs in as itself with the application permissions SMTP.SendAsApp and IMAP.AccessAsApp;
          Exchange also needs the app&apos;s service principal and a permission on this mailbox (see the setup
          checklist).
        </p>
        <AppCredentialStatus mailbox={mailbox} />
        <Field
          name="clientSecret"
          label={F.clientSecret.label}
          hint={F.clientSecret.help}
          type="password"
          autoComplete="new-password"
          placeholder={mailbox?.appCredentialState === "secret" ? "Leave empty to keep the stored secret" : undefined}
        />
        <Field
          name="clientSecretExpiresAt"
          label={F.clientSecretExpiresAt.label}
          hint={F.clientSecretExpiresAt.help}
          type="date"
        />
        <TextAreaField
          name="certificatePem"
          label={F.certificatePem.label}
          hint={F.certificatePem.help}
          placeholder="-----BEGIN CERTIFICATE-----"
        />
        <TextAreaField
          name="privateKeyPem"
          label={F.privateKeyPem.label}
          hint={F.privateKeyPem.help}
          placeholder="-----BEGIN PRIVATE KEY-----"
          secret
        />
      </fieldset>

      <fieldset>
        <legend>Servers</legend>
        <SelectField
          name="cloud"
          label={F.cloud.label}
          hint={F.cloud.help}
          options={CLOUD_OPTIONS}
          defaultValue={mailbox?.cloud ?? defaults?.cloud ?? "global"}
        />
        <p>
          <button type="button" className="secondary" onClick={fillMicrosoft365}>
            Fill in the Microsoft 365 servers
          </button>
        </p>
        <div className="pair">
          <Field
            name="smtpHost"
            label={F.smtpHost.label}
            hint={F.smtpHost.help}
            defaultValue={text(mailbox?.smtpHost)}
            maxLength={253}
          />
          <Field
            name="smtpPort"
            label={F.smtpPort.label}
            hint={F.smtpPort.help}
            defaultValue={text(mailbox?.smtpPort)}
            inputMode="numeric"
            maxLength={5}
          />
        </div>
        <div className="pair">
          <Field
            name="imapHost"
            label={F.imapHost.label}
            hint={F.imapHost.help}
            defaultValue={text(mailbox?.imapHost)}
            maxLength={253}
          />
          <Field
            name="imapPort"
            label={F.imapPort.label}
            hint={F.imapPort.help}
            defaultValue={text(mailbox?.imapPort)}
            inputMode="numeric"
            maxLength={5}
          />
        </div>
        <CheckboxField
          name="useTls"
          label={F.useTls.label}
          hint={F.useTls.help}
          defaultChecked={mailbox?.useTls ?? true}
        />
      </fieldset>

      <fieldset>
        <legend>Monitoring</legend>
        <p className="hint">
          Navigator Mail tests the mailbox on its own and shows the result on the status page. A light test only signs
          in; a full test sends and receives a message.
        </p>
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
        <p className="hint">Leave both empty for plain password login (providers other than Microsoft 365).</p>
        <Field
          name="azureClientId"
          label={F.azureClientId.label}
          hint={F.azureClientId.help}
          defaultValue={text(mailbox ? mailbox.azureClientId : defaults?.azureClientId)}
          autoComplete="off"
          maxLength={100}
        />
        <Field
          name="azureTenantId"
          label={F.azureTenantId.label}
          hint={F.azureTenantId.help}
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
