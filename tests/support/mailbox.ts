import { type SaveMailboxInput, saveMailboxSchema } from "@/lib/mailbox/schema";

export const CLIENT_ID = "1b2c3d4e-0000-4000-8000-123456789abc";
export const TENANT_GUID = "9f8e7d6c-0000-4000-8000-abcdefabcdef";

/** The form as an administrator fills it for Microsoft 365; strings, like FormData. */
export function mailboxForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    name: "Invoices",
    type: "smtp_imap",
    login: "invoices@contoso.com",
    password: "",
    smtpHost: "smtp.office365.com",
    smtpPort: "587",
    imapHost: "outlook.office365.com",
    imapPort: "993",
    useTls: "on",
    azureClientId: CLIENT_ID,
    azureTenantId: TENANT_GUID,
    cloud: "global",
    ...overrides,
  };
}

export function mailboxInput(tenantId: number, overrides: Record<string, string> = {}): SaveMailboxInput {
  return saveMailboxSchema.parse({ tenantId: String(tenantId), ...mailboxForm(overrides) });
}
