/** The emulator's directory: users, app registrations and tenants, as tests set them up. */

export type EmuUser = {
  upn: string;
  password: string;
  oid?: string;
  state?: "locked" | "expired" | "disabled";
  mfa?: "required" | "registration";
  blockedByConditionalAccess?: boolean;
  /** Mint the access token as if for another user (the servers must refuse it). */
  tokenUpn?: string;
  /** Directory roles, e.g. ["Application Administrator"]: what Graph lets the user do. */
  roles?: string[];
  /** A guest from another organisation (acct = 1 in its tokens). */
  guest?: boolean;
  /** A personal Microsoft account (outlook.com) invited as a guest: acct = 1 and idp live.com. */
  personal?: boolean;
};

export type EmuApp = {
  clientId: string;
  publicClient: boolean;
  /** Permissions an administrator consented to, e.g. ["SMTP.Send", "IMAP.AccessAsUser.All"]. */
  consented: string[];
  /** Issue tokens even for scopes without consent, leaving them out of scp (a misconfigured app). */
  dropUnconsented?: boolean;
  /** Audience to put in access tokens instead of Outlook. */
  audience?: string;
  /** Client secrets of the app registration (client credentials grant). */
  secrets?: { value: string; expiresAt?: Date }[];
  /** Public certificates (PEM) uploaded to the app registration, for signed client assertions. */
  certificates?: string[];
  /** Application permissions with admin consent, e.g. ["SMTP.SendAsApp", "IMAP.AccessAsApp"]. */
  appRoles?: string[];
  /** Object ID of the app's service principal (Enterprise application): the `oid` of its app-only tokens. */
  servicePrincipalId?: string;
  /** Registered but without a service principal in the tenant: sign-in answers AADSTS700016. */
  missingServicePrincipal?: boolean;
  /** Not yet known to the token endpoint before this time (a new app reaching Entra's replicas). */
  visibleFrom?: number;
};

export type EmuTenant = {
  id: string;
  domains: string[];
  users: EmuUser[];
  apps: EmuApp[];
  /** "Users can register applications" in the tenant's user settings; Entra's default is yes. */
  usersCanRegisterApps?: boolean;
  /** Microsoft Graph of the tenant's cloud (https://graph.microsoft.us for US Government); global when unset. */
  graphResource?: string;
};
