import fs from "node:fs";

type Grants = Map<string, Set<string>>;

/**
 * Exchange Online's mailbox permissions, as its PowerShell sets them:
 * - app-only access: the mailboxes each service principal (the `oid` of its app-only tokens) was given
 *   with Add-MailboxPermission; an app with no entry has no Exchange service principal;
 * - FullAccess (Add-MailboxPermission): who may open a mailbox that is not their own;
 * - Send As (Add-RecipientPermission) and Send on Behalf (Set-Mailbox -GrantSendOnBehalfTo): who may
 *   send from an address that is not their own;
 * - aliases: further addresses of a mailbox (Set-Mailbox -EmailAddresses).
 * The SMTP peer and Graph ask it directly; Dovecot's sign-in check reads the file it keeps current.
 */
export class ExchangePermissions {
  private readonly apps: Grants = new Map();
  private readonly fullAccess: Grants = new Map();
  private readonly sendAs: Grants = new Map();
  private readonly sendOnBehalf: Grants = new Map();
  private readonly aliases = new Map<string, string>();
  /** Every mailbox Exchange knows (users' and shared ones), by primary address. */
  private readonly mailboxes = new Set<string>();

  constructor(readonly file: string) {
    this.write();
  }

  grant(servicePrincipalId: string, ...mailboxes: string[]): void {
    for (const mailbox of mailboxes) add(this.apps, servicePrincipalId, mailbox);
    this.write();
  }

  revoke(servicePrincipalId: string, mailbox: string): void {
    this.apps.get(servicePrincipalId)?.delete(mailbox.toLowerCase());
    this.write();
  }

  allows(servicePrincipalId: string, mailbox: string): boolean {
    return this.apps.get(servicePrincipalId)?.has(mailbox.toLowerCase()) ?? false;
  }

  grantFullAccess(mailbox: string, user: string): void {
    add(this.fullAccess, mailbox.toLowerCase(), user);
    this.write();
  }

  grantSendAs(address: string, trustee: string): void {
    add(this.sendAs, this.owner(address), trustee);
  }

  grantSendOnBehalf(address: string, trustee: string): void {
    add(this.sendOnBehalf, this.owner(address), trustee);
  }

  addMailbox(address: string): void {
    this.mailboxes.add(address.toLowerCase());
  }

  /** Whether some mailbox has this address, as its own or as an alias. */
  knows(address: string): boolean {
    return this.mailboxes.has(this.owner(address));
  }

  addAlias(mailbox: string, alias: string): void {
    this.aliases.set(alias.toLowerCase(), mailbox.toLowerCase());
  }

  /** The mailbox an address belongs to: itself, or the mailbox that has it as an alias. */
  owner(address: string): string {
    return this.aliases.get(address.toLowerCase()) ?? address.toLowerCase();
  }

  /** Whether `user` may open `mailbox`: its own, or with FullAccess. */
  opens(user: string, mailbox: string): boolean {
    return same(user, mailbox) || (this.fullAccess.get(mailbox.toLowerCase())?.has(user.toLowerCase()) ?? false);
  }

  /**
   * How `user` may send from `address`: as itself (its own address or one of its aliases), with Send As,
   * with Send on Behalf (the message then names `user` as its Sender), or not at all.
   */
  sendsFrom(user: string, address: string): "self" | "send-as" | "on-behalf" | null {
    const owner = this.owner(address);
    if (same(owner, user)) return "self";
    if (this.sendAs.get(owner)?.has(user.toLowerCase())) return "send-as";
    if (this.sendOnBehalf.get(owner)?.has(user.toLowerCase())) return "on-behalf";
    return null;
  }

  private write(): void {
    const json = (grants: Grants) => Object.fromEntries([...grants].map(([key, values]) => [key, [...values]]));
    const file = { apps: json(this.apps), fullAccess: json(this.fullAccess) };
    fs.writeFileSync(`${this.file}.tmp`, JSON.stringify(file), { mode: 0o644 });
    fs.renameSync(`${this.file}.tmp`, this.file);
  }
}

function add(grants: Grants, key: string, value: string): void {
  const granted = grants.get(key) ?? new Set<string>();
  granted.add(value.toLowerCase());
  grants.set(key, granted);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
