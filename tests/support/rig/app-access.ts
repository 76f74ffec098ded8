import fs from "node:fs";

/**
 * Exchange Online's side of app-only access: the mailboxes each service principal (the `oid` of its
 * app-only tokens) was given with Add-MailboxPermission. An app with no entry has no Exchange service
 * principal. The SMTP peer asks it directly; Dovecot's sign-in check reads the file it keeps current.
 */
export class AppMailboxAccess {
  private readonly grants = new Map<string, Set<string>>();

  constructor(readonly file: string) {
    this.write();
  }

  grant(servicePrincipalId: string, ...mailboxes: string[]): void {
    const granted = this.grants.get(servicePrincipalId) ?? new Set<string>();
    for (const mailbox of mailboxes) granted.add(mailbox.toLowerCase());
    this.grants.set(servicePrincipalId, granted);
    this.write();
  }

  revoke(servicePrincipalId: string, mailbox: string): void {
    this.grants.get(servicePrincipalId)?.delete(mailbox.toLowerCase());
    this.write();
  }

  allows(servicePrincipalId: string, mailbox: string): boolean {
    return this.grants.get(servicePrincipalId)?.has(mailbox.toLowerCase()) ?? false;
  }

  private write(): void {
    const json = Object.fromEntries([...this.grants].map(([sp, mailboxes]) => [sp, [...mailboxes]]));
    fs.writeFileSync(`${this.file}.tmp`, JSON.stringify(json), { mode: 0o644 });
    fs.renameSync(`${this.file}.tmp`, this.file);
  }
}
