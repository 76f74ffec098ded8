/**
 * A value as one PowerShell argument that is only ever data: a single-quoted string, in which
 * PowerShell expands nothing ($, $(), backticks and ; are plain characters), with every quote doubled.
 * PowerShell takes the typographic single quotes (U+2018 to U+201B) as quotes too, so they are
 * doubled as well. Every command line the portal shows goes through this.
 */
export function powerShellQuoted(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (quote) => quote + quote)}'`;
}

/**
 * RBAC for Applications in Exchange Online: the app's service principal, a management scope holding
 * only this mailbox, and one role assignment per Graph permission, limited to that scope. A value not
 * known yet stays a bare placeholder, so that PowerShell refuses the line until it is filled in.
 */
export function appScopeLines(at: {
  appId: string;
  servicePrincipalId?: string;
  mailbox: string;
  roles: readonly string[];
}): string[] {
  const scope = powerShellQuoted(`Navigator Mail ${at.mailbox}`);
  // The filter is OPATH inside a PowerShell string: its own quotes are doubled first, then PowerShell's.
  const filter = powerShellQuoted(`PrimarySmtpAddress -eq '${at.mailbox.replace(/'/g, "''")}'`);
  const objectId = at.servicePrincipalId
    ? powerShellQuoted(at.servicePrincipalId)
    : "<Enterprise application object ID>";
  return [
    "Connect-ExchangeOnline",
    `New-ServicePrincipal -AppId ${powerShellQuoted(at.appId)} -ObjectId ${objectId} -DisplayName ${scope}`,
    `New-ManagementScope -Name ${scope} -RecipientRestrictionFilter ${filter}`,
    ...at.roles.map(
      (role) =>
        `New-ManagementRoleAssignment -App ${powerShellQuoted(at.appId)} -Role ${powerShellQuoted(`Application ${role}`)} -CustomResourceScope ${scope}`,
    ),
  ];
}

/** An application access policy (the older way) limits the app to a mail-enabled security group's members. */
export function accessPolicyLines(at: { appId: string; mailbox: string }): string[] {
  return [
    `Test-ApplicationAccessPolicy -Identity ${powerShellQuoted(at.mailbox)} -AppId ${powerShellQuoted(at.appId)}`,
    `Add-DistributionGroupMember -Identity <group of the app's access policy> -Member ${powerShellQuoted(at.mailbox)}`,
  ];
}

/** Exchange's per-mailbox switch for authenticated SMTP or IMAP, turned on. */
export function enableProtocolLine(mailbox: string, protocol: "smtp" | "imap"): string {
  const setting = protocol === "smtp" ? "-SmtpClientAuthenticationDisabled $false" : "-ImapEnabled $true";
  return `Set-CASMailbox -Identity ${powerShellQuoted(mailbox)} ${setting}`;
}

/** FullAccess on a mailbox (a shared mailbox the Login reads; a mailbox an app-only service principal opens). */
export function fullAccessLine(mailbox: string, trustee: string): string {
  return `Add-MailboxPermission -Identity ${powerShellQuoted(mailbox)} -User ${powerShellQuoted(trustee)} -AccessRights FullAccess -InheritanceType All`;
}

/** Send As on an address for the one who signs in, and the Send on Behalf alternative (From shows "on behalf of"). */
export function sendAsLines(sendAs: string, trustee: string): string[] {
  return [
    `Add-RecipientPermission -Identity ${powerShellQuoted(sendAs)} -Trustee ${powerShellQuoted(trustee)} -AccessRights SendAs -Confirm:$false`,
    "# or, for Send on Behalf instead of Send As:",
    `Set-Mailbox -Identity ${powerShellQuoted(sendAs)} -GrantSendOnBehalfTo @{Add=${powerShellQuoted(trustee)}}`,
  ];
}

/** An alias Exchange does not know yet: added to the mailbox's addresses, and sending from aliases switched on. */
export function aliasLines(mailbox: string, alias: string): string[] {
  return [
    `Get-Recipient -Identity ${powerShellQuoted(alias)}`,
    "# when it finds nothing, add the address to the mailbox, and let mailboxes send from their aliases:",
    `Set-Mailbox -Identity ${powerShellQuoted(mailbox)} -EmailAddresses @{Add=${powerShellQuoted(`smtp:${alias}`)}}`,
    "Set-OrganizationConfig -SendFromAliasEnabled $true",
  ];
}
