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

type Stored = Destination &
  Pick<Mailbox, "signInMethod" | "passwordSealed" | "clientSecretSealed" | "privateKeySealed">;

type Typed = {
  signInMethod: Mailbox["signInMethod"];
  password?: string;
  clearPassword: boolean;
  clientSecret?: string;
  certificatePem?: string;
  privateKeyPem?: string;
};

/** Labels of the destination fields that differ from the stored mailbox. */
function changedDestinations(current: Destination, next: Destination): string[] {
  return DESTINATION_FIELDS.filter((field) => current[field] !== next[field]).map(
    (field) => MAILBOX_FIELDS[field].label,
  );
}

/**
 * The one rule for stored secrets (a password, a client secret, a certificate's private key): a secret
 * only ever goes where it was typed. Saving and testing unsaved values both ask it; the answer names
 * the field to type it in and the message, or is null.
 */
export function secretMustBeRetyped(
  current: Stored,
  next: Destination,
  typed: Typed,
): { field: "password" | "clientSecret"; message: string } | null {
  // The Microsoft sign-in stores no typed secret; its tokens are dropped and it signs in again.
  if (typed.signInMethod === "device") return null;
  const app = typed.signInMethod === "app";
  const storedSecret =
    current.signInMethod === typed.signInMethod &&
    (app ? Boolean(current.clientSecretSealed || current.privateKeySealed) : current.passwordSealed !== null);
  const retyped = app
    ? Boolean(typed.clientSecret || (typed.certificatePem && typed.privateKeyPem))
    : Boolean(typed.password || typed.clearPassword);
  if (!storedSecret || retyped) return null;
  const changed = changedDestinations(current, next);
  if (changed.length === 0) return null;
  const what = app ? "client secret (or the certificate and its key)" : "password";
  const message = `You changed ${changed.join(", ")}. Type the ${what} again: a stored ${app ? "secret" : "password"} is only ever sent where it was entered for.`;
  return { field: app ? "clientSecret" : "password", message };
}
