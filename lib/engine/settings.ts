/** What the engine checks: a mailbox's settings, stored or typed, in the setup guide's terms. */

/** What a token is for: sending (SMTP), receiving (IMAP), or Microsoft Graph mail. */
export const TOKEN_PURPOSES = ["smtp", "imap", "graph"] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** What a mailbox does: send and receive, send only ("smtp") or receive only ("imap"), over either transport. */
export const MAILBOX_TYPES = ["smtp_imap", "smtp", "imap"] as const;
export type MailboxType = (typeof MAILBOX_TYPES)[number];

/**
 * How a mailbox moves mail: the setup guide's SMTP and IMAP with XOAUTH2 (the default), or Microsoft
 * Graph over HTTPS (`sendMail` and the inbox's messages) where SMTP AUTH or IMAP is switched off.
 */
export const MAIL_TRANSPORTS = ["smtp_imap", "graph"] as const;
export type MailTransport = (typeof MAIL_TRANSPORTS)[number];

/**
 * How a mailbox signs in to its mail servers, one name for the database, the engine and the API.
 * `basic` sends the password itself (no Azure fields: providers that still allow it); `password` gets
 * an OAuth token with the setup guide's password grant; `device` from a Microsoft sign-in kept as a
 * refresh token; `app` as the app registration itself. Every method but `basic` signs in with XOAUTH2.
 */
export const SIGN_IN_METHODS = ["basic", "password", "device", "app"] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/**
 * The setup guide's rule, in one place: a password mailbox signs in with the password grant when it
 * has the Azure fields, and with plain password login when they are empty. Other methods stay.
 */
export function signInMethodWith(method: SignInMethod, azureClientId: string | null | undefined): SignInMethod {
  if (method !== "basic" && method !== "password") return method;
  return azureClientId ? "password" : "basic";
}

export const CLOUDS = ["global", "usgov", "china"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** An app-only credential: a client secret, or a certificate whose private key signs the client assertion. */
export type AppCredential =
  | { kind: "secret"; secret: string }
  | { kind: "certificate"; certificatePem: string; privateKeyPem: string };

export type CheckSettings = {
  type: MailboxType;
  transport: MailTransport;
  login: string;
  /** The mailbox read and tested (a shared mailbox the Login has FullAccess to); empty: the Login's own. */
  mailboxAddress?: string | null;
  /** The From address (the shared mailbox, or an alias with Send As or Send on Behalf); empty: the Mailbox. */
  sendAs?: string | null;
  password: string | null;
  smtpHost: string | null;
  smtpPort: number | null;
  imapHost: string | null;
  imapPort: number | null;
  useTls: boolean;
  azureClientId: string | null;
  azureTenantId: string | null;
  cloud: Cloud;
  signInMethod: SignInMethod;
  appCredential?: AppCredential | null;
};

/**
 * The three identities of a mailbox, each resolved: who signs in (the Login), the mailbox read and
 * tested (the Mailbox, by default the Login's own), and the From address (Send as, by default the
 * Mailbox). Exchange wants them apart: SMTP signs in as the Login and sends as Send as; IMAP and Graph
 * open the Mailbox with the Login's token (app-only tokens open the Mailbox for both).
 */
export type Identities = { login: string; mailbox: string; sendAs: string };

export function identitiesOf(settings: Pick<CheckSettings, "login" | "mailboxAddress" | "sendAs">): Identities {
  const login = settings.login.trim();
  const mailbox = settings.mailboxAddress?.trim() || login;
  return { login, mailbox, sendAs: settings.sendAs?.trim() || mailbox };
}

/** Case-insensitive, as Exchange compares addresses. */
export const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** The identities in a line, each named only where it differs: "a@x", or "a@x, mailbox s@x, send as alias@x". */
export function describeIdentities(settings: Pick<CheckSettings, "login" | "mailboxAddress" | "sendAs">): string {
  const { login, mailbox, sendAs } = identitiesOf(settings);
  return [
    login,
    ...(sameAddress(mailbox, login) ? [] : [`mailbox ${mailbox}`]),
    ...(sameAddress(sendAs, mailbox) ? [] : [`send as ${sendAs}`]),
  ].join(", ");
}

/** Whether the Login reaches another mailbox or address than its own (FullAccess, Send As, Send on Behalf). */
function actsForOthers(identities: Identities): boolean {
  return !sameAddress(identities.mailbox, identities.login) || !sameAddress(identities.sendAs, identities.login);
}

/** Whether the mailbox sends (over SMTP, or Graph's sendMail with the Graph transport). */
export function usesSmtp(type: MailboxType): boolean {
  return type !== "imap";
}

/** Whether the mailbox receives (over IMAP, or Graph's inbox with the Graph transport). */
export function usesImap(type: MailboxType): boolean {
  return type !== "smtp";
}

/** Microsoft's national clouds: where tokens come from and where Exchange Online listens. */
export type CloudProfile = {
  label: string;
  authorityHost: string;
  /** Microsoft Graph in this cloud: where the one-click setup registers the app. */
  graphHost: string;
  /** Audience of the SMTP.Send / IMAP.AccessAsUser.All scopes. */
  outlookResource: string;
  /** Audience of app-only tokens (SMTP.SendAsApp, IMAP.AccessAsApp): `<resource>/.default`. */
  appResource: string;
  smtp: { host: string; port: number };
  imap: { host: string; port: number };
};

export const CLOUD_PROFILES: Record<Cloud, CloudProfile> = {
  global: {
    label: "Global",
    authorityHost: "https://login.microsoftonline.com",
    graphHost: "https://graph.microsoft.com",
    outlookResource: "https://outlook.office.com",
    appResource: "https://outlook.office365.com",
    smtp: { host: "smtp.office365.com", port: 587 },
    imap: { host: "outlook.office365.com", port: 993 },
  },
  usgov: {
    label: "US Government (GCC High)",
    authorityHost: "https://login.microsoftonline.us",
    graphHost: "https://graph.microsoft.us",
    outlookResource: "https://outlook.office365.us",
    appResource: "https://outlook.office365.us",
    smtp: { host: "smtp.office365.us", port: 587 },
    imap: { host: "outlook.office365.us", port: 993 },
  },
  china: {
    label: "China (21Vianet)",
    authorityHost: "https://login.chinacloudapi.cn",
    graphHost: "https://microsoftgraph.chinacloudapi.cn",
    outlookResource: "https://partner.outlook.cn",
    appResource: "https://partner.outlook.cn",
    smtp: { host: "smtp.partner.outlook.cn", port: 587 },
    imap: { host: "partner.outlook.cn", port: 993 },
  },
};

export const IMPLICIT_TLS_PORTS: readonly number[] = [465, 993];
export const STARTTLS_PORTS: readonly number[] = [25, 587, 2525, 143];
export const SMTP_PORTS: readonly number[] = [25, 465, 587, 2525];
export const IMAP_PORTS: readonly number[] = [143, 993];

export type TlsMode = "implicit" | "starttls" | "none";

/** With Use TLS on, 465 and 993 speak TLS from the first byte; every other port upgrades with STARTTLS. */
export function tlsModeFor(port: number, useTls: boolean): TlsMode {
  if (!useTls) return "none";
  return IMPLICIT_TLS_PORTS.includes(port) ? "implicit" : "starttls";
}

/** The token authority for these settings; an operator's override (emulator, proxy) wins. */
export function authorityHostFor(settings: Pick<CheckSettings, "cloud">, override?: string): string {
  return (override ?? CLOUD_PROFILES[settings.cloud].authorityHost).replace(/\/+$/, "");
}

/** Where Microsoft Graph is called for these settings; an operator's override (emulator, proxy) wins. */
export function graphHostFor(settings: Pick<CheckSettings, "cloud">, override?: string): string {
  return (override ?? CLOUD_PROFILES[settings.cloud].graphHost).replace(/\/+$/, "");
}

/** What a token must be for and hold: its resource, delegated scopes and application roles. */
export type Access = { resource: string; appResource: string; scopes: string[]; roles: string[] };

/**
 * The one table of permissions: Exchange Online's SMTP and IMAP permissions for the default transport,
 * Microsoft Graph's mail permissions for Graph. Graph deletes the received test message, which takes
 * Mail.ReadWrite (Mail.Read may only read). A delegated Graph token reaches another mailbox (a shared
 * Mailbox, a Send as address) only with the `.Shared` scopes; Exchange's own scopes need no such thing
 * (FullAccess and Send As decide there).
 */
export function accessFor(
  settings: Pick<CheckSettings, "type" | "transport" | "cloud"> &
    Partial<Pick<CheckSettings, "login" | "mailboxAddress" | "sendAs">>,
): Access {
  const profile = CLOUD_PROFILES[settings.cloud];
  const send = usesSmtp(settings.type);
  const receive = usesImap(settings.type);
  if (settings.transport === "graph") {
    const roles = [...(send ? ["Mail.Send"] : []), ...(receive ? ["Mail.ReadWrite"] : [])];
    const shared = settings.login !== undefined && actsForOthers(identitiesOf({ ...settings, login: settings.login }));
    const scopes = shared ? roles.map((permission) => `${permission}.Shared`) : roles;
    return { resource: profile.graphHost, appResource: profile.graphHost, scopes, roles };
  }
  return {
    resource: profile.outlookResource,
    appResource: profile.appResource,
    scopes: [...(send ? ["SMTP.Send"] : []), ...(receive ? ["IMAP.AccessAsUser.All"] : [])],
    roles: [...(send ? ["SMTP.SendAsApp"] : []), ...(receive ? ["IMAP.AccessAsApp"] : [])],
  };
}
