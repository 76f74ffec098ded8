import { z } from "zod";
import { MONITOR_FREQUENCIES } from "@/db/schema";
import {
  CLOUDS,
  IMAP_PORTS,
  IMPLICIT_TLS_PORTS,
  MAIL_TRANSPORTS,
  MAILBOX_TYPES,
  SIGN_IN_METHODS,
  type SignInMethod,
  SMTP_PORTS,
  STARTTLS_PORTS,
  sameAddress,
  signInMethodWith,
  usesImap,
  usesSmtp,
} from "@/lib/engine/settings";
import {
  clientIdError,
  hasNoControlCharacters,
  isDomainName,
  LOGIN_SHAPE,
  NO_CONTROL_CHARACTERS,
  tenantIdError,
} from "@/lib/entra-ids";
import { checkCertificate, clientSecretError } from "./app-credential";

const PERSONAL_DOMAIN = /^(outlook|hotmail|live|msn|passport)\.[a-z.]{2,}$/i;

const blankToUndefined = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);
const optionalText = (max: number) =>
  z.preprocess(blankToUndefined, z.string().trim().max(max, `Use at most ${max} characters.`).optional());
const port = z.preprocess(
  blankToUndefined,
  z.coerce
    .number({ error: "Enter a port number from 1 to 65535." })
    .int("Enter a whole number.")
    .min(1, "Enter a port number from 1 to 65535.")
    .max(65535, "Enter a port number from 1 to 65535.")
    .optional(),
);
const checkbox = z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean());

const mailboxFields = z.object({
  name: z
    .string({ error: "Enter a name." })
    .trim()
    .min(1, "Enter a name.")
    .max(100, "Use at most 100 characters.")
    .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS),
  type: z.enum(MAILBOX_TYPES, { error: "Choose SMTP, IMAP or both." }),
  transport: z.enum(MAIL_TRANSPORTS, { error: "Choose SMTP and IMAP, or Microsoft Graph." }).default("smtp_imap"),
  login: z
    .string({ error: "Enter the login." })
    .trim()
    .min(1, "Enter the login (the mailbox user's sign-in name).")
    .max(254, "Use at most 254 characters."),
  mailboxAddress: optionalText(254),
  sendAs: optionalText(254),
  password: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().max(256, "Use at most 256 characters.").optional(),
  ),
  clearPassword: checkbox,
  smtpHost: optionalText(253).transform((v) => v?.toLowerCase()),
  smtpPort: port,
  imapHost: optionalText(253).transform((v) => v?.toLowerCase()),
  imapPort: port,
  useTls: checkbox,
  azureClientId: optionalText(100),
  azureTenantId: optionalText(253).transform((v) => v?.toLowerCase()),
  cloud: z.enum(CLOUDS, { error: "Choose a Microsoft cloud." }).default("global"),
  signInMethod: z.enum(SIGN_IN_METHODS, { error: "Choose a sign-in method." }).default("password"),
  clientSecret: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().max(512, "Use at most 512 characters.").optional(),
  ),
  clientSecretExpiresAt: z.preprocess(
    blankToUndefined,
    z.coerce.date({ error: "Enter the date the secret expires, as shown under Certificates & secrets." }).optional(),
  ),
  certificatePem: z.preprocess(
    blankToUndefined,
    z.string().max(20_000, "This is too long for a certificate.").optional(),
  ),
  privateKeyPem: z.preprocess(
    blankToUndefined,
    z.string().max(20_000, "This is too long for a private key.").optional(),
  ),
  // Empty: as the tenant says.
  monitorLight: z.preprocess(
    blankToUndefined,
    z.enum(MONITOR_FREQUENCIES, { error: "Choose as the tenant, off, hourly or daily." }).optional(),
  ),
  monitorFull: z.preprocess(
    blankToUndefined,
    z.enum(MONITOR_FREQUENCIES, { error: "Choose as the tenant, off, hourly or daily." }).optional(),
  ),
});

type Fields = z.infer<typeof mailboxFields>;

/** Rules that span fields; each message names what is wrong and what to pick. */
function checkMailboxSettings(value: Fields, ctx: z.RefinementCtx): void {
  const add = (path: keyof Fields, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  const oauth = Boolean(value.azureClientId || value.azureTenantId);

  const loginProblem = loginError(value.login, oauth);
  if (loginProblem) add("login", loginProblem);
  for (const field of ["mailboxAddress", "sendAs"] as const) {
    const address = value[field];
    if (address !== undefined && !LOGIN_SHAPE.test(address))
      add(field, "Enter an email address, e.g. invoices@contoso.com: one @, no spaces, quotes or semicolons.");
  }
  if (value.mailboxAddress && !sameAddress(value.mailboxAddress, value.login) && !oauth)
    add(
      "mailboxAddress",
      "Another user's or a shared mailbox is opened with a Microsoft 365 sign-in: enter the Azure fields, or leave Mailbox empty.",
    );

  const graph = value.transport === "graph";
  // Graph's host comes from the cloud: the servers are kept as they are, and not asked for.
  for (const protocol of graph ? [] : (["smtp", "imap"] as const)) {
    const used = protocol === "smtp" ? usesSmtp(value.type) : usesImap(value.type);
    if (!used) continue;
    const hostField = protocol === "smtp" ? "smtpHost" : "imapHost";
    const portField = protocol === "smtp" ? "smtpPort" : "imapPort";
    const host = value[hostField];
    const portNumber = value[portField];
    const hostProblem =
      host === undefined
        ? `Enter the ${protocol.toUpperCase()} server, e.g. ${protocol === "smtp" ? "smtp.office365.com" : "outlook.office365.com"}.`
        : hostError(host);
    if (hostProblem) add(hostField, hostProblem);
    const portProblem =
      portNumber === undefined
        ? `Enter the ${protocol.toUpperCase()} port.`
        : portError(protocol, portNumber, value.useTls);
    if (portProblem) add(portField, portProblem);
  }

  if (value.azureClientId && !value.azureTenantId)
    add(
      "azureTenantId",
      "Enter the TenantID too: an OAuth mailbox needs both Azure fields (or leave both empty for password login).",
    );
  if (value.azureTenantId && !value.azureClientId)
    add(
      "azureClientId",
      "Enter the ClientID too: an OAuth mailbox needs both Azure fields (or leave both empty for password login).",
    );
  if (value.azureClientId) {
    const problem = clientIdError(value.azureClientId);
    if (problem) add("azureClientId", problem);
  }
  if (value.azureTenantId) {
    const problem = tenantIdError(value.azureTenantId);
    if (problem) add("azureTenantId", problem);
  }
  if (oauth && !value.useTls && !graph)
    add("useTls", "Microsoft 365 accepts OAuth sign-in only over an encrypted connection: turn on Use TLS.");
  if (value.clearPassword && value.password)
    add("password", "Either type a new password or remove the stored one, not both.");
  if (value.signInMethod === "app") checkAppOnly(value, add);
  if (value.signInMethod === "device") {
    if (!value.azureClientId && !value.azureTenantId)
      add("azureClientId", "Microsoft sign-in uses the app registration: enter its ClientID and TenantID.");
    if (value.password)
      add("password", "Microsoft sign-in needs no password: leave Password empty and sign in after saving.");
  }
}

/** App-only signs in as the app: the Azure fields, and a client secret or a certificate with its key. */
function checkAppOnly(value: Fields, add: (path: keyof Fields, message: string) => void): void {
  if (!value.azureClientId && !value.azureTenantId) {
    add("azureClientId", "App-only signs in as the app registration: enter its ClientID and TenantID.");
  }
  if (value.password) add("password", "App-only signs in without the user's password: leave Password empty.");
  if (value.clientSecret && (value.certificatePem || value.privateKeyPem)) {
    add("clientSecret", "Use either a client secret or a certificate, not both.");
    return;
  }
  if (value.clientSecret) {
    const problem = clientSecretError(value.clientSecret);
    if (problem) add("clientSecret", problem);
    if (!value.clientSecretExpiresAt)
      add("clientSecretExpiresAt", "Enter the date the secret expires, as shown under Certificates & secrets.");
    else if (value.clientSecretExpiresAt.getTime() <= Date.now())
      add("clientSecretExpiresAt", "This secret has already expired: create a new one.");
  }
  if (value.certificatePem || value.privateKeyPem) {
    if (!value.certificatePem) add("certificatePem", "Paste the certificate that belongs to this private key.");
    else if (!value.privateKeyPem) add("privateKeyPem", "Paste the certificate's private key too.");
    else {
      const checked = checkCertificate(value.certificatePem, value.privateKeyPem);
      if (!checked.ok) add(checked.field, checked.message);
    }
  }
}

/**
 * A password mailbox is stored as what it is: the password grant with the Azure fields, plain password
 * login without. An identity that names its default (the Mailbox the Login, Send as the Mailbox) is
 * stored empty, so that it follows the Login.
 */
function asStored<
  T extends { signInMethod: SignInMethod; azureClientId?: string | undefined; login: string } & Partial<
    Record<"mailboxAddress" | "sendAs", string>
  >,
>(value: T): T {
  const mailboxAddress =
    value.mailboxAddress && !sameAddress(value.mailboxAddress, value.login) ? value.mailboxAddress : undefined;
  const sendAs = value.sendAs && !sameAddress(value.sendAs, mailboxAddress ?? value.login) ? value.sendAs : undefined;
  return { ...value, mailboxAddress, sendAs, signInMethod: signInMethodWith(value.signInMethod, value.azureClientId) };
}

export const mailboxSettingsSchema = mailboxFields.superRefine(checkMailboxSettings).transform(asStored);
export type MailboxSettings = z.infer<typeof mailboxSettingsSchema>;

const id = z.coerce.number().int().positive();

export const saveMailboxSchema = mailboxFields
  .extend({
    tenantId: id,
    mailboxId: z.preprocess(blankToUndefined, id.optional()),
    version: z.preprocess(blankToUndefined, id.optional()),
  })
  .superRefine(checkMailboxSettings)
  .transform(asStored);
export type SaveMailboxInput = z.infer<typeof saveMailboxSchema>;

export const deleteMailboxSchema = z.object({ tenantId: id, mailboxId: id });
export const generateCertificateSchema = z.object({ tenantId: id, mailboxId: id, version: id });
export const switchTransportSchema = z.object({
  tenantId: id,
  mailboxId: id,
  version: id,
  transport: z.enum(MAIL_TRANSPORTS),
});

export const MAILBOX_SECRET_FIELDS = ["password", "clientSecret", "privateKeyPem"] as const;

function loginError(login: string, oauth: boolean): string | null {
  if (!LOGIN_SHAPE.test(login))
    return "Enter the sign-in name as an email address (the user's UPN), e.g. invoices@contoso.com: one @, no spaces, quotes or semicolons.";
  const domain = login.split("@")[1]!;
  if (oauth && PERSONAL_DOMAIN.test(domain)) {
    return `${domain} is a personal Microsoft account. Password sign-in with an app registration works only for work or school accounts (Microsoft 365); use the organisation's mailbox.`;
  }
  return null;
}

function hostError(host: string): string | null {
  if (isIpLiteral(host)) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) || host.includes("/"))
    return "Enter the host name only, without a scheme or path, e.g. smtp.office365.com.";
  if (/:\d+$/.test(host)) return "Enter the host name without the port; the port has its own field.";
  return isDomainName(host) ? null : "Enter a valid host name, e.g. smtp.office365.com.";
}

function portError(protocol: "smtp" | "imap", portNumber: number, useTls: boolean): string | null {
  const name = protocol.toUpperCase();
  if (protocol === "smtp" && IMAP_PORTS.includes(portNumber))
    return `${portNumber} is an IMAP port. SMTP uses 587 (STARTTLS) or 465 (TLS).`;
  if (protocol === "imap" && SMTP_PORTS.includes(portNumber))
    return `${portNumber} is an SMTP port. IMAP uses 993 (TLS) or 143 (STARTTLS).`;
  if (!useTls && IMPLICIT_TLS_PORTS.includes(portNumber)) {
    const alternative = protocol === "smtp" ? 587 : 143;
    return `${name} port ${portNumber} uses TLS from the first byte: turn on Use TLS (or use port ${alternative} with STARTTLS).`;
  }
  if (!useTls && STARTTLS_PORTS.includes(portNumber)) {
    return `${name} port ${portNumber} needs STARTTLS: turn on Use TLS. Plain-text sign-in on this port is refused.`;
  }
  return null;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Dotted-decimal IPv4 or an IPv6 address; whether it may be reached is the network guard's decision. */
function isIpLiteral(value: string): boolean {
  const bare = value.replace(/^\[(.*)\]$/, "$1");
  return IPV4.test(bare) || (/^[0-9a-f:.]+$/i.test(bare) && (bare.match(/:/g) ?? []).length >= 2);
}
