// The shapes of what an administrator copies from Microsoft Entra: the app registration's
// Application (client) ID and the Directory (tenant) ID or domain. Shared by the mailbox form and the
// tenant's default app registration.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/**
 * A sign-in name (UPN) or email address as Exchange and Entra take it: one @, a dotted domain, and
 * no spaces, quotes, semicolons or control characters (none of which a UPN may hold).
 */
export const LOGIN_SHAPE =
  /^[^\s@'"`;\u2018-\u201F\p{Cc}]+@[^\s@'"`;\u2018-\u201F\p{Cc}]+\.[^\s@'"`;\u2018-\u201F\p{Cc}]+$/u;
/** Control characters (C0, DEL, C1): never part of a name an admin types, and unsafe in a terminal. */
const CONTROL_CHARACTERS = /\p{Cc}/u;
export const hasNoControlCharacters = (value: string) => !CONTROL_CHARACTERS.test(value);
export const NO_CONTROL_CHARACTERS = "Use letters, digits and punctuation only: no control characters.";
// Entra client secrets are ~40 characters with a "~" in the fourth place (e.g. "abc8Q~…").
const CLIENT_SECRET_SHAPE = /^[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{30,}$|^[A-Za-z0-9_.~-]{3,5}~[A-Za-z0-9_.~-]{30,}$/;
const MULTI_TENANT_ALIASES = ["common", "consumers", "organizations"];

/**
 * Microsoft's own public clients. Any user of any organisation can sign in to them, so as a mailbox's
 * ClientID they would let a device code or password sign-in reach mailboxes outside the
 * organisation's own app registration (and its consent and Conditional Access). Refused.
 */
export const FIRST_PARTY_CLIENT_IDS: Record<string, string> = {
  "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph PowerShell",
  "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
  "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
  "1b730954-1685-4b74-9bfd-dac224a7b894": "Azure Active Directory PowerShell",
  "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft Office",
  "27922004-5251-4030-b22d-91ecd9a37ea4": "Outlook Mobile",
  "1fec8e78-bce4-4aaf-ab1b-5451cc387264": "Microsoft Teams",
  "29d9ed98-a469-4536-ade2-f981bc1d605e": "Microsoft Authentication Broker",
  "00b41c95-dab0-4487-9791-b9d2c32c80f2": "Office 365 Management",
  "0ec893e0-5785-4de6-99da-4ed124e5296c": "Office UWP PWA",
};

export function clientIdError(value: string): string | null {
  const firstParty = FIRST_PARTY_CLIENT_IDS[value.toLowerCase()];
  if (firstParty) {
    return `This is the ClientID of ${firstParty}, Microsoft's own app. Enter the Application (client) ID of your organisation's own app registration (or use Set up in Microsoft Entra for me).`;
  }
  if (GUID.test(value)) return null;
  if (EMAIL_SHAPE.test(value))
    return "This is an email address. The ClientID is the Application (client) ID, a GUID such as 1b2c3d4e-0000-4000-8000-123456789abc, on the app registration's Overview page.";
  if (CLIENT_SECRET_SHAPE.test(value))
    return "This looks like a client secret. Navigator Mail needs no secret: enter the Application (client) ID, a GUID, from the app registration's Overview page.";
  return "Enter the Application (client) ID: a GUID such as 1b2c3d4e-0000-4000-8000-123456789abc.";
}

export function tenantIdError(value: string): string | null {
  if (MULTI_TENANT_ALIASES.includes(value.toLowerCase())) {
    return `"${value}" is not a specific tenant, and password sign-in needs one: enter the Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com.`;
  }
  if (GUID.test(value)) return null;
  if (EMAIL_SHAPE.test(value))
    return "This is an email address. Enter the Directory (tenant) ID (a GUID) or just the domain, e.g. contoso.onmicrosoft.com.";
  if (isDomainName(value)) return null;
  return "Enter the Directory (tenant) ID, a GUID, or a verified domain such as contoso.onmicrosoft.com.";
}

export function isDomainName(value: string): boolean {
  if (value.length > 253 || !value.includes(".")) return false;
  const labels = value.split(".");
  return labels.every((label) => HOST_LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}
