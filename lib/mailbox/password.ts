import "server-only";
import type { Mailbox } from "@/db/schema";
import { canOpen, open, type SealingKey, seal, sealingContext } from "@/lib/crypto/seal";

export const mailboxPasswordContext = (mailbox: Pick<Mailbox, "tenantId" | "id">) =>
  sealingContext({ tenantId: mailbox.tenantId, table: "mailboxes", rowId: mailbox.id, field: "password" });

export function sealMailboxPassword(
  mailbox: Pick<Mailbox, "tenantId" | "id">,
  password: string,
  keys?: SealingKey[],
): string {
  return seal(password, mailboxPasswordContext(mailbox), keys);
}

/** For the live checks only; never for a page. Throws SealError when the value cannot be opened. */
export function openMailboxPassword(
  mailbox: Pick<Mailbox, "tenantId" | "id" | "passwordSealed">,
  keys?: SealingKey[],
): string | null {
  return mailbox.passwordSealed === null ? null : open(mailbox.passwordSealed, mailboxPasswordContext(mailbox), keys);
}

export type PasswordState = "none" | "set" | "unreadable";

export function passwordState(
  mailbox: Pick<Mailbox, "tenantId" | "id" | "passwordSealed">,
  keys?: SealingKey[],
): PasswordState {
  if (mailbox.passwordSealed === null) return "none";
  return canOpen(mailbox.passwordSealed, mailboxPasswordContext(mailbox), keys) ? "set" : "unreadable";
}

/** The app-only credentials are sealed like the password, each bound to its own field of the row. */
export const appSecretContext = (mailbox: Pick<Mailbox, "tenantId" | "id">, field: "client_secret" | "private_key") =>
  sealingContext({ tenantId: mailbox.tenantId, table: "mailboxes", rowId: mailbox.id, field });
