import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { CheckSettings } from "@/lib/engine/settings";
import { mailboxForm } from "../mailbox";
import { freePort } from "../ports";
import { tempDir } from "../temp";
import { Dovecot } from "./dovecot";
import { type EmuApp, type EmuTenant, type EmuUser, EntraEmulator } from "./entra-emulator";
import { ExchangePermissions } from "./exchange-permissions";
import { GraphMail } from "./graph-mail";
import { SmtpRelay } from "./smtp-relay";
import { issueRigCertificate, type RigTls, rigTlsFromEnv } from "./tls";

export const RIG_CLIENT_ID = "0b7c6d5e-1111-4222-8333-944455556666";
export const BOTH_PERMISSIONS = ["SMTP.Send", "IMAP.AccessAsUser.All"];
/** Microsoft Graph's delegated mail permissions (the Graph transport), consented on the rig's app too. */
export const GRAPH_PERMISSIONS = ["Mail.Send", "Mail.ReadWrite"];
const SETUP_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

export type Rig = {
  tls: RigTls;
  ip: string;
  entra: EntraEmulator;
  tenant: EmuTenant;
  dovecot: Dovecot;
  smtp: SmtpRelay;
  /** Exchange's Add-MailboxPermission for app-only service principals, seen by SMTP and IMAP alike. */
  exchange: ExchangePermissions;
  /** Microsoft Graph's mail endpoints (at entra.authorityHost, ENTRA_GRAPH_HOST) over the same Dovecot. */
  graphMail: GraphMail;
  allowlist: string[];
  /** A fresh user in the emulator's tenant, with a mailbox in Dovecot. */
  addUser(user?: Partial<EmuUser>): EmuUser;
  /** A shared mailbox (its account disabled), known to Exchange and Graph; its address. */
  addSharedMailbox(): string;
  settings(user: EmuUser, overrides?: Partial<CheckSettings>): CheckSettings;
  /**
   * An app registration with app-only access, as an administrator sets it up: application permissions
   * with consent, a service principal, and Add-MailboxPermission on the given mailboxes.
   */
  addAppOnlyApp(app?: Partial<EmuApp>, mailboxes?: string[]): { clientId: string; servicePrincipalId: string };
  /**
   * Microsoft Graph PowerShell's public client, as every tenant has it, for the Entra setup's sign-in
   * (ENTRA_SETUP_CLIENT_ID's default); the tenant also gets the mailboxes' domain as a verified domain.
   */
  addSetupClient(): string;
  /**
   * An organisation in the US Government cloud (its own Graph, https://graph.microsoft.us) with an
   * Application Administrator and the setup's public client.
   */
  addGovTenant(): { tenant: EmuTenant; admin: EmuUser };
  /** The mailbox form, as an administrator fills it, for a rig user. */
  mailboxForm(user: Pick<EmuUser, "upn" | "password">, overrides?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
};

/**
 * The whole test rig on loopback: the Entra emulator, Dovecot (IMAP 143/993, LMTP) and the SMTP peer
 * (465 TLS, 587 STARTTLS) on a loopback address of its own; started once per test file.
 */
export type RigOptions = {
  passwords?: Record<string, string>;
  smtpAuthDisabled?: string[];
  basicAuthDisabled?: string[];
  sendAsDenied?: string[];
};

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const tls = issueRigCertificate(rigTlsFromEnv());
  const ip = tls.ip;
  const entra = await new EntraEmulator(tls).start();
  const tenant = entra.addTenant({
    domains: ["contoso.onmicrosoft.com"],
    apps: [{ clientId: RIG_CLIENT_ID, publicClient: true, consented: [...BOTH_PERMISSIONS, ...GRAPH_PERMISSIONS] }],
  });
  const issuers = [`https://sts.windows.net/${tenant.id}/`];
  const lmtpPort = await freePort();
  const accessDir = tempDir("navigator-exchange-");
  fs.chmodSync(accessDir, 0o755);
  const exchange = new ExchangePermissions(path.join(accessDir, "app-mailbox-access.json"));
  const passwords = options.passwords ?? {};
  const master = { user: "graph-master", password: randomUUID() };
  const dovecot = await new Dovecot({
    master,
    ip,
    tls,
    lmtpPort,
    issuers,
    kid: entra.kid,
    publicKeyPem: entra.publicKeyPem,
    passwords,
    exchangeFile: exchange.file,
  }).start();
  const smtp = await new SmtpRelay({
    ip,
    tls,
    lmtpPort,
    publicKeyPem: entra.publicKeyPem,
    issuers,
    passwords,
    exchange,
    smtpAuthDisabled: new Set(options.smtpAuthDisabled ?? []),
    basicAuthDisabled: new Set(options.basicAuthDisabled ?? []),
    sendAsDenied: new Set(options.sendAsDenied ?? []),
  }).start([
    { port: 465, secure: true },
    { port: 587, secure: false },
  ]);
  const graphMail = new GraphMail({ ip, lmtpPort, master, exchange });
  entra.graph.mail = graphMail;
  return {
    tls,
    ip,
    entra,
    tenant,
    dovecot,
    smtp,
    exchange,
    graphMail,
    allowlist: [...[465, 587, 143, 993].map((port) => `${ip}:${port}`), new URL(entra.authorityHost).host],
    addUser(user = {}) {
      const local = `u${randomUUID().slice(0, 8)}`;
      const full: EmuUser = { upn: `${local}@contoso.com`, password: `pw-${randomUUID()}`, ...user };
      tenant.users.push(full);
      exchange.addMailbox(full.upn);
      return full;
    },
    addSharedMailbox() {
      // A shared mailbox's user account is disabled: nobody signs in as it.
      const shared: EmuUser = {
        upn: `shared-${randomUUID().slice(0, 8)}@contoso.com`,
        password: `pw-${randomUUID()}`,
        state: "disabled",
      };
      tenant.users.push(shared);
      exchange.addMailbox(shared.upn);
      return shared.upn;
    },
    settings(user, overrides = {}) {
      return {
        type: "smtp_imap",
        transport: "smtp_imap",
        login: user.upn,
        password: user.password,
        smtpHost: ip,
        smtpPort: 587,
        imapHost: ip,
        imapPort: 993,
        useTls: true,
        azureClientId: RIG_CLIENT_ID,
        azureTenantId: tenant.id,
        cloud: "global",
        signInMethod: "password",
        ...overrides,
      };
    },
    addAppOnlyApp(app = {}, mailboxes = []) {
      const clientId = randomUUID();
      const servicePrincipalId = randomUUID();
      tenant.apps.push({
        clientId,
        publicClient: false,
        consented: [],
        appRoles: ["SMTP.SendAsApp"],
        servicePrincipalId,
        ...app,
      });
      if (mailboxes.length > 0) exchange.grant(servicePrincipalId, ...mailboxes);
      return { clientId, servicePrincipalId };
    },
    addSetupClient() {
      tenant.domains.push("contoso.com");
      tenant.apps.push({
        clientId: SETUP_CLIENT_ID,
        publicClient: true,
        consented: [
          "Application.ReadWrite.All",
          "DelegatedPermissionGrant.ReadWrite.All",
          "AppRoleAssignment.ReadWrite.All",
        ],
      });
      return SETUP_CLIENT_ID;
    },
    addGovTenant() {
      const admin: EmuUser = {
        upn: `admin-${randomUUID().slice(0, 8)}@fabrikam.onmicrosoft.us`,
        password: `pw-${randomUUID()}`,
        roles: ["Application Administrator"],
      };
      const gov = entra.addTenant({
        domains: ["fabrikam.onmicrosoft.us"],
        users: [admin],
        apps: [
          {
            clientId: SETUP_CLIENT_ID,
            publicClient: true,
            consented: ["Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"],
          },
        ],
        graphResource: "https://graph.microsoft.us",
      });
      return { tenant: gov, admin };
    },
    mailboxForm(user, overrides = {}) {
      return mailboxForm({
        login: user.upn,
        password: user.password,
        smtpHost: ip,
        imapHost: ip,
        azureClientId: RIG_CLIENT_ID,
        azureTenantId: tenant.id,
        ...overrides,
      });
    },
    async stop() {
      await Promise.allSettled([smtp.stop(), dovecot.stop(), entra.stop()]);
    },
  };
}
