import type { MonitorFrequency } from "@/db/schema";
import { CLOUD_PROFILES, type MailboxType, type MailTransport, type SignInMethod } from "@/lib/engine/settings";

/** Labels as the setup guide names them, and one line on where each value comes from. */
export const MAILBOX_FIELDS = {
  name: { label: "Name", help: "A name for this mailbox in Navigator Mail, e.g. Invoices or Support." },
  type: { label: "Type", help: "SMTP to send, IMAP to receive, or both." },
  transport: {
    label: "Transport",
    help: "How mail moves: SMTP and IMAP as in the setup guide, or Microsoft Graph where SMTP AUTH or IMAP is switched off.",
  },
  login: {
    label: "Login",
    help: "Who signs in: the user's sign-in name (UPN) in Microsoft Entra ID, e.g. invoices@contoso.com or a service account.",
  },
  mailboxAddress: {
    label: "Mailbox",
    help: "The mailbox read and tested, if not the Login's own: e.g. a shared mailbox the Login has FullAccess to. Empty: the Login's.",
  },
  sendAs: {
    label: "Send as",
    help: "The From address, if not the Mailbox: e.g. the shared mailbox or an alias with Send As or Send on Behalf. Empty: the Mailbox.",
  },
  password: { label: "Password", help: "That user's password. It is stored encrypted and never shown again." },
  cloud: {
    label: "Microsoft cloud",
    help: "Where the tenant lives; sets the sign-in authority and the Microsoft 365 servers.",
  },
  smtpHost: { label: "SMTP Server", help: "smtp.office365.com for Microsoft 365." },
  smtpPort: { label: "SMTP Port", help: "587 (STARTTLS) for Microsoft 365; 465 for TLS from the start." },
  imapHost: { label: "IMAP Server", help: "outlook.office365.com for Microsoft 365." },
  imapPort: { label: "IMAP Port", help: "993 (TLS) for Microsoft 365; 143 for STARTTLS." },
  useTls: {
    label: "Use TLS",
    help: "Encrypted connection to the mail servers: TLS from the start on 465 and 993, STARTTLS on the other ports.",
  },
  signInMethod: {
    label: "Sign-in method",
    help: "How Navigator Mail signs in to Microsoft 365 for this mailbox.",
  },
  clientSecret: {
    label: "Client secret",
    help: "The Value of a client secret from the app registration → Certificates & secrets. Stored encrypted and never shown again.",
  },
  clientSecretExpiresAt: {
    label: "Client secret expires on",
    help: "The Expires date shown next to the secret; Navigator Mail warns 30 days before.",
  },
  certificatePem: {
    label: "Certificate (PEM)",
    help: "Instead of a secret: the certificate uploaded to the app registration → Certificates & secrets → Certificates.",
  },
  privateKeyPem: {
    label: "Private key (PEM)",
    help: "The certificate's unencrypted private key. Stored encrypted and never shown again; it never leaves the portal.",
  },
  azureClientId: {
    label: "Azure Application ClientID",
    help: "Application (client) ID on the app registration's Overview page in Microsoft Entra ID.",
  },
  azureTenantId: {
    label: "Azure Application TenantID",
    help: "Directory (tenant) ID on the same Overview page, or a verified domain such as contoso.onmicrosoft.com.",
  },
} as const;

export const MONITOR_FREQUENCY_LABELS: Record<MonitorFrequency, string> = {
  off: "Off",
  hourly: "Hourly",
  daily: "Daily",
};

export const FREQUENCY_OPTIONS = Object.entries(MONITOR_FREQUENCY_LABELS).map(([value, label]) => ({ value, label }));

export const MAILBOX_TYPE_LABELS: Record<MailboxType, string> = {
  smtp_imap: "SMTP/IMAP (send and receive)",
  smtp: "SMTP (send only)",
  imap: "IMAP (receive only)",
};

export const MAIL_TRANSPORT_LABELS: Record<MailTransport, string> = {
  smtp_imap: "SMTP and IMAP",
  graph: "Microsoft Graph (HTTPS)",
};

/**
 * The sign-in methods' labels: `short` in lists, `choice` on the form. The form offers no "basic": a
 * password mailbox without the Azure fields is plain password login (lib/mailbox/schema.ts).
 */
export const SIGN_IN_METHOD_LABELS: Record<SignInMethod, { short: string; choice: string | null }> = {
  basic: { short: "Password", choice: null },
  password: {
    short: "Microsoft 365, password",
    choice: "Password, as in the setup guide (plain password login without the Azure fields)",
  },
  device: {
    short: "Microsoft 365, Microsoft sign-in",
    choice: "Microsoft sign-in with a device code (no password stored; works with MFA)",
  },
  app: {
    short: "Microsoft 365, app-only",
    choice: "App-only: client secret or certificate (no user password; works with MFA)",
  },
};

/** The Microsoft clouds as choices of a form (mailbox settings, a tenant's default app registration). */
export const CLOUD_OPTIONS = Object.entries(CLOUD_PROFILES).map(([value, profile]) => ({
  value,
  label: profile.label,
}));
