import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Db } from "@/db/client";
import { auditLog, mailboxes, tokenCaches } from "@/db/schema";
import { UserError } from "@/lib/errors";
import { openMailboxPassword } from "@/lib/mailbox/password";
import { getMailboxFor, listMailboxesFor, toMailboxView } from "@/lib/mailbox/queries";
import { createMailbox, deleteMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxForm, mailboxInput } from "../../support/mailbox";

let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

async function created(overrides: Record<string, string> = {}) {
  return createMailbox(
    db,
    world.adminA,
    mailboxInput(world.tenantA.id, { name: `Box ${++n}`, password: "first-password", ...overrides }),
  );
}

async function update(id: number, version: number, overrides: Record<string, string>) {
  const current = (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;
  return updateMailbox(db, world.adminA, {
    ...mailboxInput(world.tenantA.id, { name: current.name, ...overrides }),
    mailboxId: id,
    version,
  });
}

const lastAudit = async () => (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)!;

describe("saving mailboxes", () => {
  it("seals the password bound to the row and exposes only its state", async () => {
    const mailbox = await created();
    expect(mailbox.passwordSealed).toMatch(/^v1\.test1\./);
    expect(openMailboxPassword(mailbox)).toBe("first-password");
    const view = toMailboxView(await getMailboxFor(db, world.adminA, world.tenantA.id, mailbox.id));
    expect(view).not.toHaveProperty("passwordSealed");
    expect(view.passwordState).toBe("set");
    expect(view.passwordChangedBy).toBe(world.adminA.email);
    expect(JSON.stringify(await listMailboxesFor(db, world.adminA, world.tenantA.id))).not.toContain("v1.");
  });

  it("keeps the stored password when the field is left empty", async () => {
    const mailbox = await created();
    const saved = await update(mailbox.id, 1, { password: "", name: mailbox.name });
    expect(saved.passwordSealed).toBe(mailbox.passwordSealed);
    expect(saved.version).toBe(2);
  });

  it.each([
    ["Login", { login: "someone@contoso.com" }],
    ["SMTP Server", { smtpHost: "smtp.evil.example" }],
    ["SMTP Port", { smtpPort: "465" }],
    ["IMAP Server", { imapHost: "imap.evil.example" }],
    ["IMAP Port", { imapPort: "143" }],
    ["Azure Application ClientID", { azureClientId: "00000000-0000-4000-8000-000000000001" }],
    ["Azure Application TenantID", { azureTenantId: "fabrikam.onmicrosoft.com" }],
    ["Microsoft cloud", { cloud: "usgov" }],
  ])("refuses to send the stored password to a changed %s without it typed again", async (label, change) => {
    const mailbox = await created();
    const before = JSON.stringify((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]);
    await expect(update(mailbox.id, 1, change)).rejects.toThrowError(
      expect.objectContaining({ field: "password", message: expect.stringContaining(`You changed ${label}.`) }),
    );
    expect(JSON.stringify((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0])).toBe(before);
    const saved = await update(mailbox.id, 1, { ...change, password: "retyped-password" });
    expect(openMailboxPassword(saved)).toBe("retyped-password");
  });

  it("refuses turning Use TLS off without the password (on a non-standard port, where it is allowed)", async () => {
    const mailbox = await created({ azureClientId: "", azureTenantId: "", smtpPort: "2587", imapPort: "2993" });
    await expect(
      update(mailbox.id, 1, { azureClientId: "", azureTenantId: "", smtpPort: "2587", imapPort: "2993", useTls: "" }),
    ).rejects.toThrow(/You changed Use TLS\./);
  });

  it("removes the stored password on request, and the audit says only that it changed", async () => {
    const mailbox = await created();
    const saved = await update(mailbox.id, 1, { clearPassword: "on", login: "new@contoso.com" });
    expect(saved.passwordSealed).toBeNull();
    expect((await lastAudit()).changes).toEqual({
      login: { from: "invoices@contoso.com", to: "new@contoso.com" },
      password: "changed",
    });
  });

  it("refuses a save based on an old version, naming who changed it and when", async () => {
    const mailbox = await created();
    await update(mailbox.id, 1, { smtpPort: "465", password: "x-password" });
    await expect(update(mailbox.id, 1, { imapPort: "143", password: "y-password" })).rejects.toThrow(
      new RegExp(
        `changed by ${world.adminA.email} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC — reload to see the changes`,
      ),
    );
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0]!.imapPort).toBe(993);
  });

  it("refuses a duplicate name in the same tenant, but not in another", async () => {
    const mailbox = await created();
    await expect(
      createMailbox(db, world.adminA, mailboxInput(world.tenantA.id, { name: mailbox.name.toUpperCase() })),
    ).rejects.toThrowError(expect.objectContaining({ field: "name" }));
    expect(
      (await createMailbox(db, world.adminB, mailboxInput(world.tenantB.id, { name: mailbox.name }))).tenantId,
    ).toBe(world.tenantB.id);
  });

  it("audits create, change and delete with field names and non-secret values", async () => {
    const mailbox = await created();
    expect(await lastAudit()).toMatchObject({
      action: "mailbox.create",
      changes: { login: { to: "invoices@contoso.com" }, password: "changed", smtpPort: { to: 587 } },
    });
    await update(mailbox.id, 1, { smtpHost: "smtp-hve.office365.com", password: "new-password-2" });
    expect(await lastAudit()).toMatchObject({
      action: "mailbox.update",
      changes: { smtpHost: { from: "smtp.office365.com", to: "smtp-hve.office365.com" }, password: "changed" },
    });
    await deleteMailbox(db, world.adminA, world.tenantA.id, mailbox.id);
    expect(await lastAudit()).toMatchObject({ action: "mailbox.delete", targetLabel: mailbox.name });
    const text = JSON.stringify(await db.select().from(auditLog));
    expect(text).not.toContain("first-password");
    expect(text).not.toContain("new-password-2");
    expect(text).not.toContain("v1.test1.");
  });

  it("says a password that cannot be decrypted is unreadable instead of failing", async () => {
    const mailbox = await created();
    const other = await created();
    // A ciphertext copied from another row must not open here.
    await db.update(mailboxes).set({ passwordSealed: other.passwordSealed }).where(eq(mailboxes.id, mailbox.id));
    expect(toMailboxView(await getMailboxFor(db, world.adminA, world.tenantA.id, mailbox.id)).passwordState).toBe(
      "unreadable",
    );
  });

  it("keeps another tenant's mailboxes out of reach: list, read, edit, delete", async () => {
    const theirs = await createMailbox(
      db,
      world.adminB,
      mailboxInput(world.tenantB.id, { name: `Theirs ${++n}`, password: "their-password" }),
    );
    const before = JSON.stringify((await db.select().from(mailboxes).where(eq(mailboxes.id, theirs.id)))[0]);
    await expect(listMailboxesFor(db, world.adminA, world.tenantB.id)).rejects.toThrow("Not found");
    await expect(getMailboxFor(db, world.adminA, world.tenantB.id, theirs.id).then(toMailboxView)).rejects.toThrow(
      "Not found",
    );
    await expect(getMailboxFor(db, world.adminA, world.tenantA.id, theirs.id).then(toMailboxView)).rejects.toThrow(
      "Not found",
    );
    await expect(
      updateMailbox(db, world.adminA, {
        ...mailboxInput(world.tenantA.id, { password: "p" }),
        mailboxId: theirs.id,
        version: 1,
      }),
    ).rejects.toThrow("Not found");
    await expect(deleteMailbox(db, world.adminA, world.tenantA.id, theirs.id)).rejects.toThrow("Not found");
    await expect(deleteMailbox(db, world.adminA, world.tenantB.id, theirs.id)).rejects.toThrow("Not found");
    expect(JSON.stringify((await db.select().from(mailboxes).where(eq(mailboxes.id, theirs.id)))[0])).toBe(before);
  });
});

describe("the three identities: Login, Mailbox and Send as", () => {
  it("stores a shared Mailbox and a Send as address, audited", async () => {
    const mailbox = await created({ mailboxAddress: "Support@contoso.com", sendAs: "help@contoso.com" });
    expect(mailbox).toMatchObject({ mailboxAddress: "Support@contoso.com", sendAs: "help@contoso.com" });
    const saved = await update(mailbox.id, 1, { password: "first-password", sendAs: "" });
    expect(saved.sendAs).toBeNull();
    expect((await lastAudit()).changes).toMatchObject({ sendAs: { from: "help@contoso.com", to: null } });
  });

  it("stores a Mailbox equal to the Login, or Send as equal to the Mailbox, as empty (the default)", async () => {
    const same = await created({ mailboxAddress: "INVOICES@contoso.com", sendAs: "invoices@CONTOSO.com" });
    expect(same).toMatchObject({ mailboxAddress: null, sendAs: null });
    const shared = await created({ mailboxAddress: "support@contoso.com", sendAs: "Support@contoso.com" });
    expect(shared).toMatchObject({ mailboxAddress: "support@contoso.com", sendAs: null });
  });

  it("refuses an address outside the Login's domain, next to its field, and saves nothing", async () => {
    const before = (await db.select().from(mailboxes)).length;
    for (const field of ["mailboxAddress", "sendAs"]) {
      const error = await created({ [field]: "boss@fabrikam.com" }).catch((e: UserError) => e);
      expect(error).toBeInstanceOf(UserError);
      expect(error).toMatchObject({ field, message: expect.stringContaining("contoso.com") });
    }
    expect((await db.select().from(mailboxes)).length).toBe(before);
  });

  it("refuses what is not an address, and a shared Mailbox without a Microsoft 365 sign-in", () => {
    const errors = (overrides: Record<string, string>) => {
      const parsed = saveMailboxSchema.safeParse({ tenantId: "1", ...mailboxForm(overrides) });
      return parsed.success ? {} : z.flattenError(parsed.error).fieldErrors;
    };
    expect(errors({ sendAs: "help@contoso.com\r\nBcc: x@evil.example" }).sendAs).toBeDefined();
    expect(errors({ mailboxAddress: "not an address" }).mailboxAddress).toBeDefined();
    expect(errors({ mailboxAddress: `${"a".repeat(250)}@contoso.com` }).mailboxAddress).toBeDefined();
    expect(
      errors({ azureClientId: "", azureTenantId: "", mailboxAddress: "support@contoso.com" }).mailboxAddress,
    ).toEqual([expect.stringContaining("Microsoft 365 sign-in")]);
  });
});

describe("the token cache follows the sign-in settings", () => {
  const cacheRows = async (id: number) =>
    (await db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, id))).length;
  const seedCache = async (id: number) =>
    await db
      .insert(tokenCaches)
      .values({ mailboxId: id, fingerprint: "f", cacheSealed: "v1.x", updatedAt: new Date() });

  it.each([
    ["the password", { password: "another-password" }],
    ["the Login", { login: "other@contoso.com", password: "p-again" }],
    ["the ClientID", { azureClientId: "00000000-0000-4000-8000-000000000009", password: "p-again" }],
    ["the TenantID", { azureTenantId: "fabrikam.onmicrosoft.com", password: "p-again" }],
  ])("is dropped when %s changes", async (_what, change) => {
    const mailbox = await created();
    await seedCache(mailbox.id);
    await update(mailbox.id, 1, change);
    expect(await cacheRows(mailbox.id)).toBe(0);
  });

  it("is kept when only the name changes", async () => {
    const mailbox = await created();
    await seedCache(mailbox.id);
    await update(mailbox.id, 1, { name: `Renamed ${++n}` });
    expect(await cacheRows(mailbox.id)).toBe(1);
  });
});
