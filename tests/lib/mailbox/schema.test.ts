import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FIRST_PARTY_CLIENT_IDS } from "@/lib/entra-ids";
import { mailboxSettingsSchema } from "@/lib/mailbox/schema";
import { tenantDefaultsSchema } from "@/lib/tenants/schema";
import { CLIENT_ID, mailboxForm } from "../../support/mailbox";

const GUID = CLIENT_ID;
const valid = mailboxForm({ azureTenantId: "contoso.onmicrosoft.com" });

function errorsFor(overrides: Record<string, string | undefined>) {
  const input: Record<string, string | undefined> = { ...valid, ...overrides };
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
  const result = mailboxSettingsSchema.safeParse(input);
  return (result.success ? {} : z.flattenError(result.error).fieldErrors) as Record<string, string[] | undefined>;
}

describe("mailbox settings schema", () => {
  it("accepts the Microsoft 365 settings and normalises them", () => {
    const parsed = mailboxSettingsSchema.parse({
      ...valid,
      smtpHost: " SMTP.Office365.com ",
      azureTenantId: "Contoso.OnMicrosoft.com",
    });
    expect(parsed).toMatchObject({
      smtpHost: "smtp.office365.com",
      smtpPort: 587,
      imapPort: 993,
      useTls: true,
      azureTenantId: "contoso.onmicrosoft.com",
      password: undefined,
    });
  });

  it("accepts a password mailbox with both Azure fields empty", () => {
    expect(errorsFor({ azureClientId: "", azureTenantId: "", login: "me@outlook.com" })).toEqual({});
  });

  it("reports every error at once", () => {
    const errors = errorsFor({
      name: "",
      login: "nope",
      smtpHost: "",
      imapPort: "0",
      azureClientId: "x",
      azureTenantId: "common",
    });
    expect(Object.keys(errors).sort()).toEqual([
      "azureClientId",
      "azureTenantId",
      "imapPort",
      "login",
      "name",
      "smtpHost",
    ]);
  });

  it.each([
    // ClientID
    [
      { azureClientId: "invoices@contoso.com" },
      "azureClientId",
      /This is an email address\. The ClientID is the Application \(client\) ID/,
    ],
    [{ azureClientId: "abc8Q~aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, "azureClientId", /looks like a client secret/],
    [{ azureClientId: "not-a-guid" }, "azureClientId", /a GUID such as/],
    [{ azureClientId: GUID.toUpperCase() }, "azureClientId", null],
    // TenantID
    [{ azureTenantId: "common" }, "azureTenantId", /"common" is not a specific tenant/],
    [{ azureTenantId: "organizations" }, "azureTenantId", /not a specific tenant/],
    [{ azureTenantId: "Consumers" }, "azureTenantId", /not a specific tenant/],
    [{ azureTenantId: "admin@contoso.com" }, "azureTenantId", /This is an email address/],
    [{ azureTenantId: "contoso" }, "azureTenantId", /verified domain/],
    [{ azureTenantId: GUID }, "azureTenantId", null],
    // both or neither
    [{ azureTenantId: "" }, "azureTenantId", /Enter the TenantID too/],
    [{ azureClientId: "" }, "azureClientId", /Enter the ClientID too/],
    // ports
    [{ smtpPort: "0" }, "smtpPort", /from 1 to 65535/],
    [{ smtpPort: "65536" }, "smtpPort", /from 1 to 65535/],
    [{ smtpPort: "58.7" }, "smtpPort", /whole number/],
    [{ smtpPort: "abc" }, "smtpPort", /from 1 to 65535/],
    [{ smtpPort: "" }, "smtpPort", /Enter the SMTP port/],
    [{ smtpPort: "993" }, "smtpPort", /993 is an IMAP port\. SMTP uses 587 \(STARTTLS\) or 465 \(TLS\)/],
    [{ imapPort: "587" }, "imapPort", /587 is an SMTP port\. IMAP uses 993 \(TLS\) or 143 \(STARTTLS\)/],
    // TLS against port (password mailbox so that OAuth's own TLS rule does not interfere)
    [
      { azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "465", imapPort: "2993" },
      "smtpPort",
      /port 465 uses TLS from the first byte: turn on Use TLS \(or use port 587 with STARTTLS\)/,
    ],
    [
      { azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "2587", imapPort: "993" },
      "imapPort",
      /port 993 uses TLS from the first byte: turn on Use TLS \(or use port 143/,
    ],
    [
      { azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "587", imapPort: "2993" },
      "smtpPort",
      /SMTP port 587 needs STARTTLS: turn on Use TLS/,
    ],
    [
      { azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "25", imapPort: "2993" },
      "smtpPort",
      /port 25 needs STARTTLS/,
    ],
    [
      { azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "2525", imapPort: "2993" },
      "smtpPort",
      /port 2525 needs STARTTLS/,
    ],
    [
      { azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "2587", imapPort: "143" },
      "imapPort",
      /port 143 needs STARTTLS/,
    ],
    [{ azureClientId: "", azureTenantId: "", useTls: undefined, smtpPort: "2587", imapPort: "2993" }, "smtpPort", null],
    [
      { useTls: undefined, smtpPort: "2587", imapPort: "2993" },
      "useTls",
      /accepts OAuth sign-in only over an encrypted connection/,
    ],
    // hosts
    [{ smtpHost: "" }, "smtpHost", /Enter the SMTP server, e\.g\. smtp\.office365\.com/],
    [{ smtpHost: "smtp://smtp.office365.com" }, "smtpHost", /without a scheme/],
    [{ smtpHost: "smtp.office365.com:587" }, "smtpHost", /without the port/],
    [{ smtpHost: "bad_host.example.com" }, "smtpHost", /valid host name/],
    [{ imapHost: "-bad.example.com" }, "imapHost", /valid host name/],
    [{ imapHost: `${"a".repeat(64)}.example.com` }, "imapHost", /valid host name/],
    [{ imapHost: "localhost" }, "imapHost", /valid host name/],
    [{ imapHost: "203.0.113.5" }, "imapHost", null],
    [{ imapHost: "2001:db8::25" }, "imapHost", null],
    [{ imapHost: "300.1.2.3" }, "imapHost", /valid host name/],
    // login
    [{ login: "invoices" }, "login", /as an email address \(the user's UPN\)/],
    [{ login: "" }, "login", /Enter the login/],
    [{ login: "me@outlook.com" }, "login", /outlook\.com is a personal Microsoft account/],
    [{ login: "me@hotmail.com" }, "login", /personal Microsoft account.*work or school accounts/],
    [{ login: "me@live.com" }, "login", /personal Microsoft account/],
    [{ login: "me@msn.com" }, "login", /personal Microsoft account/],
    [{ login: "me@hotmail.co.uk" }, "login", /personal Microsoft account/],
    [{ login: "me@outlook.com", azureClientId: "", azureTenantId: "" }, "login", null],
    // lengths and choices
    [{ name: "n".repeat(101) }, "name", /at most 100/],
    [{ type: "pop3" }, "type", /Choose SMTP, IMAP or both/],
    [{ cloud: "mars" }, "cloud", /Choose a Microsoft cloud/],
    [{ password: "p".repeat(257) }, "password", /at most 256/],
  ])("%j → %s", (overrides, field, expected) => {
    const errors = errorsFor(overrides as Record<string, string | undefined>)[field];
    if (expected === null) expect(errors).toBeUndefined();
    else expect(errors?.join(" ")).toMatch(expected);
  });

  it("needs only the servers the Type uses", () => {
    expect(errorsFor({ type: "smtp", imapHost: "", imapPort: "" })).toEqual({});
    expect(errorsFor({ type: "imap", smtpHost: "", smtpPort: "" })).toEqual({});
    expect(Object.keys(errorsFor({ type: "smtp_imap", imapHost: "", imapPort: "" })).sort()).toEqual([
      "imapHost",
      "imapPort",
    ]);
  });

  it("refuses a new password together with removing the stored one", () => {
    expect(errorsFor({ password: "new-one", clearPassword: "on" }).password).toEqual([
      "Either type a new password or remove the stored one, not both.",
    ]);
  });
});

describe("Microsoft's own public clients as a ClientID", () => {
  it("are refused for a mailbox and for a tenant's default app, each named", () => {
    for (const [clientId, name] of Object.entries(FIRST_PARTY_CLIENT_IDS)) {
      const errors = errorsFor({ azureClientId: clientId.toUpperCase() });
      expect(errors.azureClientId?.[0]).toContain(`This is the ClientID of ${name}, Microsoft's own app.`);
      const defaults = tenantDefaultsSchema.safeParse({
        tenantId: "1",
        azureClientId: clientId,
        azureTenantId: "contoso.com",
      });
      expect(defaults.success, name).toBe(false);
    }
  });

  it("leave the organisation's own app registration alone", () => {
    expect(errorsFor({ azureClientId: GUID }).azureClientId).toBeUndefined();
    expect(
      tenantDefaultsSchema.safeParse({ tenantId: "1", azureClientId: GUID, azureTenantId: "contoso.com" }).success,
    ).toBe(true);
  });

  it("include the ones an attacker would reach for first", () => {
    expect(Object.values(FIRST_PARTY_CLIENT_IDS)).toEqual(
      expect.arrayContaining([
        "Microsoft Graph PowerShell",
        "Microsoft Azure CLI",
        "Microsoft Office",
        "Outlook Mobile",
      ]),
    );
  });
});
