export type SetupStep =
  | "register-app"
  | "client-id"
  | "tenant-id"
  | "api-permissions"
  | "admin-consent"
  | "public-client-flows"
  | "conditional-access"
  | "account"
  | "login"
  | "password"
  | "exchange-smtp-auth"
  | "exchange-imap"
  | "microsoft-sign-in"
  | "client-secret"
  | "certificate"
  | "exchange-app-access"
  | "mailbox-access"
  | "send-as"
  | "graph-permissions"
  | "graph-app-scope"
  | "servers"
  | "tls"
  | "product";

export const SETUP_STEP_LABELS: Record<SetupStep, string> = {
  "register-app": "Register the application in Microsoft Entra ID",
  "client-id": "Azure Application ClientID",
  "tenant-id": "Azure Application TenantID",
  "api-permissions": "API permissions (SMTP.Send, IMAP.AccessAsUser.All)",
  "admin-consent": "Grant admin consent",
  "public-client-flows": "Allow public client flows",
  "conditional-access": "MFA and Conditional Access",
  account: "The mailbox user's account",
  login: "Login",
  password: "Password",
  "exchange-smtp-auth": "Authenticated SMTP for the mailbox (Exchange)",
  "exchange-imap": "IMAP for the mailbox (Exchange)",
  "microsoft-sign-in": "Sign in with Microsoft (device code)",
  "client-secret": "Client secret of the app registration",
  certificate: "Certificate of the app registration",
  "exchange-app-access": "Exchange service principal and mailbox permission (app-only)",
  "mailbox-access": "FullAccess on the Mailbox for the Login (Exchange)",
  "send-as": "Send As or Send on Behalf on the Send as address (Exchange)",
  "graph-permissions": "API permissions (Microsoft Graph Mail.Send, Mail.ReadWrite)",
  "graph-app-scope": "Limit the app to its mailboxes (RBAC for Applications or an application access policy)",
  servers: "SMTP/IMAP Server and Port",
  tls: "Port and Use TLS",
  product: "Navigator Mail itself",
};

/** A recognised failure: what it means, how to fix it, and the setup step it belongs to. */
export type Diagnosis = {
  code: string;
  cause: string;
  fix: string;
  setupStep: SetupStep;
  /** The server's own reply with tokens and passwords removed, for a support ticket. */
  detail?: string;
  /** A line to run that fixes it, with this mailbox's own values (PowerShell, each value quoted). */
  command?: string;
};

type Entry = Omit<Diagnosis, "code" | "detail" | "command">;

const entry = (setupStep: SetupStep, cause: string, fix: string): Entry => ({ setupStep, cause, fix });

/** Every failure the check recognises, by code: what it means and which setup step fixes it. */
export const CATALOGUE = {
  // Microsoft Entra ID (AADSTS codes)
  AADSTS7000218: entry(
    "public-client-flows",
    "The app registration does not allow public client flows, which password sign-in needs.",
    "In Microsoft Entra ID → App registrations → your app → Authentication → Advanced settings, set Allow public client flows to Yes.",
  ),
  AADSTS65001: entry(
    "admin-consent",
    "An administrator has not consented to the app's SMTP/IMAP permissions.",
    "In the app registration → API permissions, select Grant admin consent for your organisation.",
  ),
  AADSTS50126: entry(
    "password",
    "Microsoft rejected the Login or Password.",
    "Check the Login (the user's UPN) and type the Password again.",
  ),
  AADSTS50076: entry(
    "conditional-access",
    "The account must use multi-factor authentication, which password sign-in cannot do.",
    "Switch the mailbox to the sign-in method Microsoft sign-in (device code), which completes MFA in the browser, or App-only, which needs no user sign-in; or exclude this account from MFA (per-user MFA or the Conditional Access policy that requires it).",
  ),
  AADSTS50079: entry(
    "conditional-access",
    "The account is required to register for multi-factor authentication, which password sign-in cannot do.",
    "Switch the mailbox to the sign-in method Microsoft sign-in (device code), which completes MFA in the browser, or App-only, which needs no user sign-in; or exclude this account from MFA registration and the Conditional Access policy that requires MFA.",
  ),
  AADSTS53003: entry(
    "conditional-access",
    "A Conditional Access policy blocked the sign-in.",
    "Switch the mailbox to the sign-in method App-only (a user policy does not apply to an app); or in Microsoft Entra ID → Conditional Access, exclude this account or this app from the blocking policy (sign-in logs name it).",
  ),
  AADSTS700016: entry(
    "client-id",
    "No application with this ClientID exists in that directory.",
    "Copy the Application (client) ID from the app registration's Overview page, and check the TenantID is the directory the app is registered in.",
  ),
  AADSTS90002: entry(
    "tenant-id",
    "No directory with this TenantID exists in the chosen Microsoft cloud.",
    "Copy the Directory (tenant) ID from the app registration's Overview page, and check the Microsoft cloud.",
  ),
  AADSTS900023: entry(
    "tenant-id",
    "The TenantID is not a valid directory identifier.",
    "Enter the Directory (tenant) ID (a GUID) or a verified domain of the tenant.",
  ),
  AADSTS50034: entry(
    "login",
    "This user does not exist in that directory.",
    "The Login must be the user's UPN in the same tenant as the app registration.",
  ),
  AADSTS50053: entry(
    "account",
    "The account is locked, after too many failed sign-ins or by an administrator.",
    "Wait for the lock to expire or unlock the account in Microsoft Entra ID, then check the Password before testing again.",
  ),
  AADSTS50055: entry(
    "account",
    "The account's password has expired.",
    "Change the password of this account, then enter the new one here.",
  ),
  AADSTS50057: entry(
    "account",
    "The account is disabled in Microsoft Entra ID.",
    "Enable the account (Users → the user → Account enabled).",
  ),
  AADSTS70011: entry(
    "product",
    "The token request mixed scopes of different resources.",
    "This is a Navigator Mail defect: report it with this report.",
  ),
  AADSTS50173: entry(
    "password",
    "The stored sign-in grant was revoked, usually after a password change.",
    "Type the Password again and save.",
  ),
  AADSTS700082: entry("password", "The stored sign-in grant has expired.", "Type the Password again and save."),
  AADSTS7000215: entry(
    "client-secret",
    "Microsoft rejected the client secret.",
    "In the app registration → Certificates & secrets, create a new client secret and enter its Value (not its Secret ID).",
  ),
  AADSTS7000222: entry(
    "client-secret",
    "The client secret has expired.",
    "In the app registration → Certificates & secrets, create a new client secret and enter it here.",
  ),
  AADSTS700027: entry(
    "certificate",
    "Microsoft did not accept the certificate's signed assertion: the certificate is not on the app registration, or has expired.",
    "Upload this mailbox's certificate under the app registration → Certificates & secrets → Certificates.",
  ),
  // Microsoft sign-in (device code)
  NOT_SIGNED_IN: entry(
    "microsoft-sign-in",
    "This mailbox has not been signed in with Microsoft yet.",
    "On the mailbox page, press Sign in with Microsoft and sign in as the Login.",
  ),
  SIGN_IN_AGAIN: entry(
    "microsoft-sign-in",
    "The mailbox's Microsoft sign-in has expired or was revoked (a password change, revoked sessions, or 90 days unused).",
    "On the mailbox page, press Sign in again and sign in as the Login.",
  ),
  DEVICE_WRONG_ACCOUNT: entry(
    "microsoft-sign-in",
    "Someone signed in with a different account than the mailbox's Login; nothing was stored.",
    "Sign in again as the Login (use a private browser window if another account is signed in).",
  ),
  DEVICE_DECLINED: entry(
    "microsoft-sign-in",
    "The sign-in was declined at Microsoft.",
    "Press Sign in with Microsoft again and accept the request.",
  ),
  DEVICE_EXPIRED: entry(
    "microsoft-sign-in",
    "The code expired before the sign-in was finished (codes are valid for 15 minutes).",
    "Press Sign in with Microsoft again and enter the new code promptly.",
  ),
  DEVICE_BAD_CODE: entry(
    "microsoft-sign-in",
    "Microsoft no longer recognises this sign-in request.",
    "Press Sign in with Microsoft again for a new code.",
  ),
  DEVICE_SETTINGS_CHANGED: entry(
    "microsoft-sign-in",
    "The mailbox settings were saved while the sign-in was waiting; the sign-in was for the old settings and was not kept.",
    "Press Sign in with Microsoft again.",
  ),
  DEVICE_CANCELLED: entry(
    "microsoft-sign-in",
    "The sign-in was cancelled.",
    "Press Sign in with Microsoft to start again.",
  ),
  // One-click setup through Microsoft Graph
  SETUP_ROLE_MISSING: entry(
    "register-app",
    "The account you signed in with holds no directory role that may grant admin consent, so the setup wrote nothing (or Graph refused a step: Authorization_RequestDenied).",
    "Sign in as a user with the Application Administrator or Cloud Application Administrator role (or Global Administrator, or Privileged Role Administrator).",
  ),
  SETUP_CONSENT_BLOCKED: entry(
    "admin-consent",
    "The tenant's consent policy does not allow granting this consent.",
    "Ask a Global Administrator to allow the grant (Entra ID → Enterprise applications → Consent and permissions), or grant it in the Azure portal.",
  ),
  SETUP_NAME_TAKEN: entry(
    "register-app",
    "An app registration with this name already exists and belongs to someone else.",
    "Choose another name, or ask its owner to add you as an owner.",
  ),
  SETUP_THROTTLED: entry(
    "product",
    "Microsoft Graph asked to wait before more requests (429 Too Many Requests).",
    "Wait the time Microsoft asked for, then resume the setup; nothing done so far is lost.",
  ),
  SETUP_NOT_MEMBER: entry(
    "account",
    "The setup was signed in with a guest or personal Microsoft account, which cannot register apps in this organisation.",
    "Sign in with an account of the organisation itself (name@yourdomain), not a guest or an outlook.com account.",
  ),
  SETUP_WRONG_CLOUD: entry(
    "tenant-id",
    "This organisation is in another Microsoft cloud than the one chosen: its directory does not know that cloud's Microsoft Graph (AADSTS500011).",
    "Choose the organisation's Microsoft cloud (US Government for GCC High and DoD, China for 21Vianet, otherwise Global) and start the setup again.",
  ),
  SETUP_SIGNED_OUT: entry(
    "register-app",
    "The sign-in for this setup has ended (it lasts an hour, and only in the portal process that made it).",
    "Press Set up in Microsoft Entra for me again; what was already done is kept and not done twice.",
  ),
  SETUP_GRAPH_ERROR: entry(
    "register-app",
    "Microsoft Graph refused a setup step.",
    "Read the reply below; the Graph error code in it names the problem.",
  ),
  AADSTS_OTHER: entry(
    "register-app",
    "Microsoft Entra ID refused the token request.",
    "Read the server reply below; the AADSTS code in it names the problem.",
  ),
  TOKEN_TIMEOUT: entry(
    "servers",
    "The Microsoft sign-in service did not answer in time.",
    "Check that this server can reach the Microsoft sign-in address over HTTPS (proxy, firewall).",
  ),
  TOKEN_UNREACHABLE: entry(
    "servers",
    "The Microsoft sign-in service could not be reached.",
    "Check DNS and outbound HTTPS from this server to the Microsoft sign-in address.",
  ),
  SETTINGS_INCOMPLETE: entry(
    "servers",
    "A server or port that the Type needs is missing.",
    "Fill in the SMTP Server and Port to send, and the IMAP Server and Port to receive.",
  ),
  NO_PASSWORD: entry("password", "No password is stored for this mailbox.", "Type the Password and save."),
  NO_APP_CREDENTIAL: entry(
    "client-secret",
    "No client secret or certificate is stored for this app-only mailbox.",
    "Enter the app registration's client secret, or generate or upload a certificate, and save.",
  ),
  // Token claims
  CLAIM_AUDIENCE: entry(
    "api-permissions",
    "The token is not for Exchange Online (Outlook).",
    "Add the SMTP.Send / IMAP.AccessAsUser.All permissions of Office 365 Exchange Online, not Microsoft Graph.",
  ),
  CLAIM_SMTP_SCOPE: entry(
    "api-permissions",
    "The token lacks the SMTP.Send permission.",
    "In the app registration → API permissions, add SMTP.Send (Office 365 Exchange Online, delegated) and grant admin consent.",
  ),
  CLAIM_IMAP_SCOPE: entry(
    "api-permissions",
    "The token lacks the IMAP.AccessAsUser.All permission.",
    "In the app registration → API permissions, add IMAP.AccessAsUser.All (delegated) and grant admin consent.",
  ),
  CLAIM_APP_ROLE: entry(
    "admin-consent",
    "The app-only token lacks the SMTP.SendAsApp or IMAP.AccessAsApp application permission.",
    "In the app registration → API permissions, add the application permissions SMTP.SendAsApp / IMAP.AccessAsApp of Office 365 Exchange Online and grant admin consent.",
  ),
  DIRECTORY_NOT_ALLOWED: entry(
    "tenant-id",
    "Microsoft issued the token in another organisation than the ones this tenant is bound to, so the portal does not use it.",
    "Point TenantID and Login at your own organisation. If the mailbox really is in this other organisation, ask a super-admin to add it under Microsoft organisation on the tenant's Settings tab.",
  ),
  CLAIM_USER: entry(
    "login",
    "The token belongs to another user than the Login.",
    "Set Login to the exact UPN of the account whose password is stored.",
  ),
  CLAIM_EXPIRED: entry("servers", "The token had already expired when it arrived.", "Check this server's clock (NTP)."),
  CLAIM_MALFORMED: entry("product", "The token could not be read.", "Report this with the report below."),
  // SMTP
  SMTP_AUTH_DISABLED: entry(
    "exchange-smtp-auth",
    "SMTP AUTH (authenticated SMTP) is disabled for this mailbox or the whole organisation.",
    "Turn on Authenticated SMTP for the mailbox (the line below, or Microsoft 365 admin center → Users → the user → Mail → Manage email apps; the per-mailbox setting overrides the organisation's). Where SMTP AUTH must stay off, test with Microsoft Graph.",
  ),
  SMTP_TOKEN_REJECTED: entry(
    "api-permissions",
    "The SMTP server rejected the token.",
    "Check that Login is the token's user and that SMTP.Send is granted with admin consent.",
  ),
  SMTP_APP_NOT_PERMITTED: entry(
    "exchange-app-access",
    "Exchange refused the app-only token for this mailbox: the app has no Exchange service principal or no permission on the mailbox.",
    "In Exchange Online PowerShell run New-ServicePrincipal for the app and Add-MailboxPermission for this mailbox (see the setup checklist).",
  ),
  SMTP_PASSWORD_REJECTED: entry(
    "password",
    "The SMTP server rejected the Login or Password.",
    "Check the Login and type the Password again.",
  ),
  SMTP_BASIC_AUTH_DISABLED: entry(
    "client-id",
    "The server refuses password login (basic authentication is off).",
    "Fill in Azure Application ClientID and TenantID to sign in with OAuth.",
  ),
  SMTP_SEND_AS_DENIED: entry(
    "login",
    "The server refused to send as this address.",
    "Send from the Login's own address, or grant that user Send As on the sender.",
  ),
  SEND_AS_DENIED: entry(
    "send-as",
    "Exchange refused to send as the Send as address (SendAsDenied): whoever signs in has neither Send As nor Send on Behalf on it.",
    "Grant Send As (or Send on Behalf) on the Send as address with the line below; Exchange applies it within an hour. Or leave Send as empty to send as the Mailbox.",
  ),
  SEND_AS_UNKNOWN: entry(
    "send-as",
    "Exchange does not let this sign-in send as the Send as address (5.7.60): no mailbox has that address, sending from aliases is off, or there is no Send As on it.",
    "Look the address up with the first line. If nothing has it, add it to the Mailbox as an alias (or correct Send as); if a mailbox has it, grant Send As on it.",
  ),
  SMTP_REFUSED: entry("servers", "The SMTP server refused the message.", "Read the server reply below."),
  // IMAP
  IMAP_AUTH_FAILED: entry(
    "exchange-imap",
    "The IMAP server rejected the sign-in.",
    "Check that IMAP.AccessAsUser.All is granted with admin consent and that IMAP is enabled for the mailbox (Exchange admin center → the mailbox → Email apps).",
  ),
  IMAP_APP_NOT_PERMITTED: entry(
    "exchange-app-access",
    "Exchange refused the app-only token for this mailbox: the app has no Exchange service principal or no permission on the mailbox.",
    "In Exchange Online PowerShell run New-ServicePrincipal for the app and Add-MailboxPermission -AccessRights FullAccess for this mailbox.",
  ),
  IMAP_PASSWORD_REJECTED: entry(
    "password",
    "The IMAP server rejected the Login or Password.",
    "Check the Login and type the Password again.",
  ),
  IMAP_NOT_CONNECTED: entry(
    "exchange-imap",
    "Exchange signed the identity in but did not connect it to the mailbox (User is authenticated but not connected). Known causes: IMAP is disabled for the mailbox; the Login has no FullAccess on a shared Mailbox; the mailbox is a user's without a licence; an app-only sign-in has no permission on the mailbox.",
    "Run the lines below that fit (they use this mailbox's own values); give an unlicensed user mailbox a licence or convert it to a shared mailbox. Where IMAP must stay off, test with Microsoft Graph.",
  ),
  IMAP_NO_FULL_ACCESS: entry(
    "mailbox-access",
    "Exchange refused the Login's token for the Mailbox: the Login has no FullAccess on it.",
    "Give the Login FullAccess on the Mailbox with the line below (Exchange applies it within an hour), or leave Mailbox empty to read the Login's own.",
  ),
  IMAP_NOT_DELIVERED: entry(
    "servers",
    "The test message did not arrive in the inbox in time.",
    "Check mail flow rules, quarantine and spam filtering for the mailbox; then test again.",
  ),
  IMAP_INBOX: entry(
    "exchange-imap",
    "The inbox could not be opened.",
    "Check the mailbox exists and the Login is its user.",
  ),
  // Microsoft Graph
  CLAIM_GRAPH_AUDIENCE: entry(
    "graph-permissions",
    "The token is not for Microsoft Graph.",
    "Add the Mail.Send / Mail.ReadWrite permissions of Microsoft Graph (not Office 365 Exchange Online) and grant admin consent.",
  ),
  CLAIM_GRAPH_SEND: entry(
    "graph-permissions",
    "The token lacks Microsoft Graph's Mail.Send permission.",
    "In the app registration → API permissions → Microsoft Graph, add Mail.Send (delegated for a user sign-in, application for app-only) and grant admin consent.",
  ),
  CLAIM_GRAPH_READ: entry(
    "graph-permissions",
    "The token lacks Microsoft Graph's Mail.ReadWrite permission, which reading and deleting the test message needs.",
    "In the app registration → API permissions → Microsoft Graph, add Mail.ReadWrite (delegated for a user sign-in, application for app-only) and grant admin consent.",
  ),
  GRAPH_NEEDS_OAUTH: entry(
    "client-id",
    "Microsoft Graph takes OAuth tokens only; this mailbox signs in with a plain password.",
    "Fill in Azure Application ClientID and TenantID, or choose the transport SMTP and IMAP.",
  ),
  GRAPH_TOKEN_REJECTED: entry(
    "graph-permissions",
    "Microsoft Graph refused the token (InvalidAuthenticationToken).",
    "Check that the token is for Microsoft Graph in the mailbox's Microsoft cloud, and test again; the reply below says what Graph found wrong.",
  ),
  GRAPH_APP_SCOPE: entry(
    "graph-app-scope",
    "Exchange refused the app for this mailbox (ErrorAccessDenied): an application access policy or an RBAC for Applications management scope limits the app to other mailboxes.",
    "Give the app access to this mailbox in Exchange Online PowerShell, with RBAC for Applications (the line below), or add the mailbox to the group of the app's application access policy.",
  ),
  GRAPH_ACCESS_DENIED: entry(
    "login",
    "Microsoft Graph refused access to this mailbox for the signed-in user (ErrorAccessDenied).",
    "Sign in as the mailbox's own user, or give the Login FullAccess on the mailbox; check that Mail.Send and Mail.ReadWrite are consented.",
  ),
  GRAPH_MAILBOX_NOT_ENABLED: entry(
    "account",
    "The user has no Exchange Online mailbox Graph can reach (MailboxNotEnabledForRESTAPI): unlicensed, inactive, soft-deleted or on-premises.",
    "Assign the user a licence with Exchange Online (or move the mailbox to Exchange Online) and wait for the mailbox to be provisioned.",
  ),
  GRAPH_INVALID_USER: entry(
    "login",
    "Microsoft Graph knows no user with the Login's address in this organisation (ErrorInvalidUser).",
    "Set Login to the mailbox user's UPN or primary SMTP address in the organisation of TenantID.",
  ),
  GRAPH_INVALID_RECIPIENTS: entry(
    "login",
    "Microsoft Graph refused the recipients of the message (ErrorInvalidRecipients).",
    "Check the recipient addresses; the test message goes to the Login's own address, which must be a mailbox.",
  ),
  GRAPH_THROTTLED: entry(
    "servers",
    "Microsoft Graph asked to wait before more requests (429 Too Many Requests).",
    "Wait the time Microsoft asked for (below), then test again; many programs using the same mailbox at once cause this.",
  ),
  GRAPH_REFUSED: entry(
    "graph-permissions",
    "Microsoft Graph refused the request.",
    "Read the reply below; the Graph error code in it names the problem.",
  ),
  // Network and TLS
  NETWORK_REFUSED_ADDRESS: entry(
    "servers",
    "The server name resolves to a private or reserved address, which Navigator Mail does not connect to.",
    "Use the provider's public server name; for an on-premises server an operator can allow it with MAIL_ALLOW_PRIVATE.",
  ),
  NETWORK_PORT_NOT_ALLOWED: entry(
    "servers",
    "This port is not a mail port.",
    "Use 587 or 465 for SMTP and 993 or 143 for IMAP.",
  ),
  DNS_NOT_FOUND: entry("servers", "The server name does not exist in DNS.", "Check the spelling of the server name."),
  CONNECTION_REFUSED: entry(
    "servers",
    "Nothing accepts connections on that server and port.",
    "Check the server name and port, and that a firewall allows the connection.",
  ),
  CONNECTION_TIMEOUT: entry(
    "servers",
    "The server did not answer in time.",
    "Check the server name and port, and that a firewall does not drop the connection.",
  ),
  NO_GREETING: entry(
    "tls",
    "The server accepted the connection but never greeted: it may expect TLS from the first byte, or be another kind of service.",
    "Check the port: SMTP 587 (STARTTLS) or 465 (TLS); IMAP 143 (STARTTLS) or 993 (TLS); with Use TLS on.",
  ),
  SOCKET_TIMEOUT: entry(
    "servers",
    "The server stopped answering in the middle of the session.",
    "Test again; if it repeats, check the server and any firewall or proxy in between.",
  ),
  TLS_MISMATCH: entry(
    "tls",
    "The server does not speak the TLS mode this port and Use TLS call for.",
    "Use 465 or 993 for TLS from the first byte and 587 or 143 for STARTTLS, with Use TLS on.",
  ),
  TLS_OUTDATED: entry(
    "tls",
    "The server offers only TLS 1.1 or older, which Navigator Mail refuses: Exchange Online itself refuses TLS 1.0 and 1.1 for IMAP and POP since July 2026.",
    "Use the provider's current server (outlook.office365.com, smtp.office365.com), or have the server's administrator enable TLS 1.2 or 1.3; a TLS-inspecting proxy in between must offer them too.",
  ),
  TLS_NO_STARTTLS: entry(
    "tls",
    "The server does not offer STARTTLS, so the connection would not be encrypted.",
    "Use the server's TLS port (465 or 993), or a server that supports STARTTLS.",
  ),
  TLS_CERTIFICATE: entry(
    "tls",
    "The server's certificate is not valid for this server name.",
    "Use the server name printed on its certificate; an operator can add a company CA with NODE_EXTRA_CA_CERTS.",
  ),
  UNEXPECTED: entry(
    "product",
    "Something unexpected went wrong in the check.",
    "Test again; if it repeats, report it with this report.",
  ),
} satisfies Record<string, Entry>;

export type DiagnosisCode = keyof typeof CATALOGUE;

/** Refusals where Microsoft Graph is the other way out: SMTP AUTH or IMAP switched off for the mailbox. */
export const GRAPH_WAY_OUT: readonly string[] = ["SMTP_AUTH_DISABLED", "IMAP_NOT_CONNECTED", "IMAP_AUTH_FAILED"];

export function diagnose(code: DiagnosisCode, detail?: string, command?: string): Diagnosis {
  return { code, ...CATALOGUE[code], ...(detail ? { detail } : {}), ...(command ? { command } : {}) };
}
