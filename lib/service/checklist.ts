import type { Mailbox, MailboxTest } from "@/db/schema";
import type { SetupStep } from "@/lib/engine/diagnoses";
import {
  appScopeLines,
  enableProtocolLine,
  fullAccessLine,
  powerShellQuoted,
  sendAsLines,
} from "@/lib/engine/powershell";
import {
  accessFor,
  authorityHostFor,
  identitiesOf,
  type MailTransport,
  type SignInMethod,
  sameAddress,
  usesImap,
  usesSmtp,
} from "@/lib/engine/settings";
import type { StepName, StepResult } from "@/lib/engine/steps";

export type ChecklistStatus = "passed" | "failed" | "unknown" | "not-needed";

export type ChecklistItem = {
  key: SetupStep;
  title: string;
  how: string;
  value?: string;
  command?: string;
  status: ChecklistStatus;
  note?: string;
};

type Method = SignInMethod;

/** What the portal may know beyond the mailbox: the Enterprise application's object ID, after the Entra setup. */
type Known = { servicePrincipalId?: string };

type Definition = {
  key: SetupStep;
  title: string;
  how: string;
  /** Steps whose pass proves it (any of them). */
  provenBy: readonly StepName[];
  /** The sign-in methods this step belongs to. */
  methods: readonly Method[];
  /** The transport this step belongs to; without one, both. */
  transport?: MailTransport;
  needs?: (m: Mailbox) => boolean;
  value?: (m: Mailbox) => string | undefined;
  /** A ready command or address for this mailbox (PowerShell, the admin-consent page). */
  command?: (m: Mailbox, known: Known) => string;
};

const OAUTH: readonly Method[] = ["password", "device", "app"];
const DELEGATED: readonly Method[] = ["password", "device"];
const ALL: readonly Method[] = ["basic", "password", "device", "app"];
const GRAPH_STEPS: readonly StepName[] = ["graph_send", "graph_receive"];

const ITEMS: Definition[] = [
  {
    key: "register-app",
    title: "Register the application",
    how: "Microsoft Entra ID → App registrations → New registration. Any name; for who can use it choose “Accounts in this organizational directory only” (single tenant), then Register.",
    provenBy: ["token"],
    methods: OAUTH,
  },
  {
    key: "client-id",
    title: "Copy the Application (client) ID",
    how: "From the app's Overview page into Azure Application ClientID.",
    provenBy: ["token"],
    methods: OAUTH,
    value: (m) => m.azureClientId ?? undefined,
  },
  {
    key: "tenant-id",
    title: "Copy the Directory (tenant) ID",
    how: "From the same Overview page into Azure Application TenantID.",
    provenBy: ["token"],
    methods: OAUTH,
    value: (m) => m.azureTenantId ?? undefined,
  },
  {
    key: "api-permissions",
    title: "Add the SMTP and IMAP permissions",
    how: "API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Delegated permissions: SMTP.Send to send, IMAP.AccessAsUser.All to receive.",
    provenBy: ["claims"],
    methods: DELEGATED,
    transport: "smtp_imap",
  },
  {
    key: "graph-permissions",
    title: "Add the Microsoft Graph mail permissions",
    how: "API permissions → Add a permission → Microsoft Graph → Delegated permissions: Mail.Send to send, Mail.ReadWrite to receive (the test deletes its message, which Mail.Read may not); their .Shared variants for a shared Mailbox or another Send as address. This mailbox needs:",
    provenBy: ["claims"],
    methods: DELEGATED,
    transport: "graph",
    value: (m) => accessFor(m).scopes.join(", "),
  },
  {
    key: "api-permissions",
    title: "Add the SMTP and IMAP application permissions",
    how: "API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions: SMTP.SendAsApp to send, IMAP.AccessAsApp to receive.",
    provenBy: ["claims"],
    methods: ["app"],
    transport: "smtp_imap",
  },
  {
    key: "graph-permissions",
    title: "Add the Microsoft Graph mail application permissions",
    how: "API permissions → Add a permission → Microsoft Graph → Application permissions: Mail.Send to send, Mail.ReadWrite to receive. Without a limit they reach every mailbox of the organisation: limit them (next step).",
    provenBy: ["claims"],
    methods: ["app"],
    transport: "graph",
  },
  {
    key: "admin-consent",
    title: "Grant admin consent",
    how: "API permissions → Grant admin consent for your organisation; the permissions then show green ticks. Or open this address as an administrator:",
    provenBy: ["token"],
    methods: OAUTH,
    command: (m) => {
      const base = `${authorityHostFor(m)}/${encodeURIComponent(m.azureTenantId ?? "")}`;
      const client = `client_id=${encodeURIComponent(m.azureClientId ?? "")}`;
      if (m.transport !== "graph") return `${base}/adminconsent?${client}`;
      // Graph's permissions by name, so that the consent page asks for exactly these.
      const access = accessFor(m);
      const scopes =
        m.signInMethod === "app"
          ? [`${access.appResource}/.default`]
          : access.scopes.map((p) => `${access.resource}/${p}`);
      return `${base}/v2.0/adminconsent?${client}&scope=${encodeURIComponent(scopes.join(" "))}`;
    },
  },
  {
    key: "public-client-flows",
    title: "Allow public client flows",
    how: "Authentication → Advanced settings → Allow public client flows → Yes, then Save. It is off by default; both the password grant and the device-code sign-in need it.",
    provenBy: ["token"],
    methods: DELEGATED,
  },
  {
    key: "microsoft-sign-in",
    title: "Sign in with Microsoft as the mailbox user",
    how: "On the mailbox page press Sign in with Microsoft, open the address shown, enter the code and sign in as the Login (MFA included). Navigator Mail keeps the sign-in and renews it; sign in again only when the page asks.",
    provenBy: ["token"],
    methods: ["device"],
    value: (m) => (m.signedInAccount ? `Signed in as ${m.signedInAccount}` : undefined),
  },
  {
    key: "client-secret",
    title: "Create a client secret or upload the certificate",
    how: "Certificates & secrets → Client secrets → New client secret (copy its Value), or Certificates → Upload certificate (the certificate stored with this mailbox).",
    provenBy: ["token"],
    methods: ["app"],
  },
  {
    key: "exchange-app-access",
    title: "Give the app access to this mailbox in Exchange",
    how: "In Exchange Online PowerShell, register the app's service principal (use the Object ID of the Enterprise application, not of the app registration) and give it access to this mailbox:",
    provenBy: ["smtp", "imap"],
    methods: ["app"],
    transport: "smtp_imap",
    command: (m, known) => {
      // A placeholder stays bare, so that PowerShell refuses the line until it is replaced.
      const objectId = known.servicePrincipalId
        ? powerShellQuoted(known.servicePrincipalId)
        : "<Enterprise application object ID>";
      return [
        "Connect-ExchangeOnline",
        `New-ServicePrincipal -AppId ${powerShellQuoted(m.azureClientId ?? "")} -ObjectId ${objectId} -DisplayName ${powerShellQuoted(`Navigator Mail ${m.name}`)}`,
        `Add-MailboxPermission -Identity ${powerShellQuoted(identitiesOf(m).mailbox)} -User ${objectId} -AccessRights FullAccess`,
      ].join("\n");
    },
  },
  {
    key: "graph-app-scope",
    title: "Limit the app to this mailbox in Exchange",
    how: "Application permissions of Microsoft Graph reach every mailbox until Exchange limits them. In Exchange Online PowerShell, with RBAC for Applications (use the Object ID of the Enterprise application):",
    provenBy: GRAPH_STEPS,
    methods: ["app"],
    transport: "graph",
    command: (m, known) =>
      appScopeLines({
        appId: m.azureClientId ?? "",
        servicePrincipalId: known.servicePrincipalId,
        mailbox: identitiesOf(m).mailbox,
        roles: accessFor(m).roles,
      }).join("\n"),
  },
  {
    key: "exchange-smtp-auth",
    title: "Enable authenticated SMTP for the mailbox",
    how: "Microsoft 365 admin center → Users → the user → Mail → Manage email apps → Authenticated SMTP (and the organisation-wide SMTP AUTH setting). In Exchange Online PowerShell:",
    provenBy: ["smtp"],
    methods: ALL,
    transport: "smtp_imap",
    needs: (m) => usesSmtp(m.type),
    command: (m) => enableProtocolLine(smtpUser(m), "smtp"),
  },
  {
    key: "exchange-imap",
    title: "Enable IMAP for the mailbox",
    how: "Microsoft 365 admin center → Users → the user → Mail → Manage email apps → IMAP. In Exchange Online PowerShell:",
    provenBy: ["imap"],
    methods: ALL,
    transport: "smtp_imap",
    needs: (m) => usesImap(m.type),
    command: (m) => enableProtocolLine(identitiesOf(m).mailbox, "imap"),
  },
  {
    key: "mailbox-access",
    title: "Give the Login FullAccess on the Mailbox",
    how: "The Login opens the Mailbox with its own sign-in, which Exchange allows with FullAccess (it applies within an hour). In Exchange Online PowerShell:",
    provenBy: ["imap", "graph_receive"],
    methods: DELEGATED,
    needs: (m) => usesImap(m.type) && !sameAddress(identitiesOf(m).mailbox, m.login),
    value: (m) => identitiesOf(m).mailbox,
    command: (m) => fullAccessLine(identitiesOf(m).mailbox, m.login),
  },
  {
    key: "send-as",
    title: "Let the mailbox send as the Send as address",
    how: "Sending from another address than one's own takes Send As (or Send on Behalf: the From then reads “on behalf of”) on it; an alias must be one of the Mailbox's addresses. In Exchange Online PowerShell:",
    provenBy: ["smtp", "graph_send"],
    methods: ALL,
    needs: (m) => usesSmtp(m.type) && !sameAddress(identitiesOf(m).sendAs, smtpUser(m)),
    value: (m) => identitiesOf(m).sendAs,
    command: (m) => sendAsLines(identitiesOf(m).sendAs, smtpUser(m)).join("\n"),
  },
];

/** Who sends: the Login, or the Mailbox itself for app-only (its XOAUTH2 user). */
function smtpUser(m: Mailbox): string {
  return m.signInMethod === "app" ? identitiesOf(m).mailbox : m.login;
}

/** The setup guide's steps for this mailbox's sign-in method, each ticked or crossed from the last finished test. */
export function setupChecklist(
  mailbox: Mailbox,
  lastTest: MailboxTest | undefined,
  known: Known = {},
): ChecklistItem[] {
  const method = mailbox.signInMethod;
  const steps = lastTest?.steps ?? [];
  const failed = steps.find((s) => s.status === "failed");
  // Another method's or transport's variant of a step is left out; the OAuth steps show as not needed
  // for plain password login.
  const items = ITEMS.filter(
    (item) =>
      (item.methods.includes(method) || (method === "basic" && item.methods.includes("password"))) &&
      (item.transport === undefined || item.transport === mailbox.transport),
  );
  return items.map((item) => {
    const base = {
      key: item.key,
      title: item.title,
      how: item.how,
      value: item.value?.(mailbox),
      command: item.command?.(mailbox, known),
    };
    if (!item.methods.includes(method) || (item.needs && !item.needs(mailbox)))
      return { ...base, status: "not-needed" as const };
    return { ...base, ...statusFrom(item, steps, failed) };
  });
}

function statusFrom(
  item: Definition,
  steps: StepResult[],
  failed: StepResult | undefined,
): { status: ChecklistStatus; note?: string } {
  if (steps.length === 0) return { status: "unknown", note: "Not tested yet" };
  if (failed?.diagnosis?.setupStep === item.key) return { status: "failed", note: failed.diagnosis.cause };
  if (steps.some((s) => item.provenBy.includes(s.name) && s.status === "passed")) return { status: "passed" };
  return { status: "unknown", note: failed ? `Not reached: ${failed.summary}` : undefined };
}
