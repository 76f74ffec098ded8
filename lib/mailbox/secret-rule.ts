import type { Mailbox } from "@/db/schema";
import { MAILBOX_FIELDS } from "./fields";

/** Where a stored secret would be sent: changing any of these needs the secret typed again. */
export const DESTINATION_FIELDS = [
  "login",
  "smtpHost",
  "smtpPort",
  "imapHost",
  "imapPort",
  "useTls",
  "azureClientId",
  "azureTenantId",
  "cloud",
] as const;

export type Destination = Pick<Mailbox, (typeof DESTINATION_FIELDS)[number]>;

/** Labels of the destination fields that differ from the stored mailbox. */
function changedDestinations(current: Destination, next: Destination): string[] {
  return DESTINATION_FIELDS.filter((field) => current[field] !== next[field]).map(
    (field) => MAILBOX_FIELDS[field].label,
  );
}

/**
 * The one rule for stored secrets: a secret only ever goes where it was typed. Saving and testing
 * unsaved values both ask it; the answer is the message for the secret's field, or null.
 */
export function secretMustBeRetyped(
  current: Destination & Pick<Mailbox, "passwordSealed">,
  next: Destination,
  typed: { password?: string; clearPassword: boolean },
): string | null {
  if (current.passwordSealed === null || typed.password || typed.clearPassword) return null;
  const changed = changedDestinations(current, next);
  if (changed.length === 0) return null;
  return `You changed ${changed.join(", ")}. Type the password again: a stored password is only ever sent where it was entered for.`;
}
