import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, mailboxes, tokenCaches } from "@/db/schema";
import { openMailboxPassword } from "@/lib/mailbox/password";
import { getMailboxFor, listMailboxesFor, toMailboxView } from "@/lib/mailbox/queries";
import { createMailbox, deleteMailbox, updateMailbox } from "@/lib/mailbox/save";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";

let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  db = freshDb();
  world = await seedWorld(db);
});

function created(overrides: Record<string, string> = {}) {
  return createMailbox(
    db,
    world.adminA,
    mailboxInput(world.tenantA.id, { name: `Box ${++n}`, password: "first-password", ...overrides }),
  );
}

function update(id: number, version: number, overrides: Record<string, string>) {
  const current = db.select().from(mailboxes).where(eq(mailboxes.id, id)).get()!;
  return updateMailbox(db, world.adminA, {
    ...mailboxInput(world.tenantA.id, { name: current.name, ...overrides }),
    mailboxId: id,
    version,
  });
}

const lastAudit = () => db.select().from(auditLog).all().at(-1)!;

describe("saving mailboxes", () => {
  it("seals the password bound to the row and exposes only its state", () => {
    const mailbox = created();
    expect(mailbox.passwordSealed).toMatch(/^v1\.test1\./);
    expect(openMailboxPassword(mailbox)).toBe("first-password");
    const view = toMailboxView(getMailboxFor(db, world.adminA, world.tenantA.id, mailbox.id));
    expect(view).not.toHaveProperty("passwordSealed");
    expect(view.passwordState).toBe("set");
    expect(view.passwordChangedBy).toBe(world.adminA.email);
    expect(JSON.stringify(listMailboxesFor(db, world.adminA, world.tenantA.id))).not.toContain("v1.");
  });

  it("keeps the stored password when the field is left empty", () => {
    const mailbox = created();
    const saved = update(mailbox.id, 1, { password: "", name: mailbox.name });
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
  ])("refuses to send the stored password to a changed %s without it typed again", (label, change) => {
    const mailbox = created();
    const before = JSON.stringify(db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)).get());
    expect(() => update(mailbox.id, 1, change)).toThrowError(
      expect.objectContaining({ field: "password", message: expect.stringContaining(`You changed ${label}.`) }),
    );
    expect(JSON.stringify(db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)).get())).toBe(before);
    const saved = update(mailbox.id, 1, { ...change, password: "retyped-password" });
    expect(openMailboxPassword(saved)).toBe("retyped-password");
  });

  it("refuses turning Use TLS off without the password (on a non-standard port, where it is allowed)", () => {
    const mailbox = created({ azureClientId: "", azureTenantId: "", smtpPort: "2587", imapPort: "2993" });
    expect(() =>
      update(mailbox.id, 1, { azureClientId: "", azureTenantId: "", smtpPort: "2587", imapPort: "2993", useTls: "" }),
    ).toThrow(/You changed Use TLS\./);
  });

  it("removes the stored password on request, and the audit says only that it changed", () => {
    const mailbox = created();
    const saved = update(mailbox.id, 1, { clearPassword: "on", login: "new@contoso.com" });
    expect(saved.passwordSealed).toBeNull();
    expect(lastAudit().changes).toEqual({
      login: { from: "invoices@contoso.com", to: "new@contoso.com" },
      password: "changed",
    });
  });

  it("refuses a save based on an old version, naming who changed it and when", () => {
    const mailbox = created();
    update(mailbox.id, 1, { smtpPort: "465", password: "x-password" });
    expect(() => update(mailbox.id, 1, { imapPort: "143", password: "y-password" })).toThrow(
      new RegExp(
        `changed by ${world.adminA.email} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC — reload to see the changes`,
      ),
    );
    expect(db.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)).get()!.imapPort).toBe(993);
  });

  it("refuses a duplicate name in the same tenant, but not in another", async () => {
    const mailbox = created();
    expect(() =>
      createMailbox(db, world.adminA, mailboxInput(world.tenantA.id, { name: mailbox.name.toUpperCase() })),
    ).toThrowError(expect.objectContaining({ field: "name" }));
    expect(createMailbox(db, world.adminB, mailboxInput(world.tenantB.id, { name: mailbox.name })).tenantId).toBe(
      world.tenantB.id,
    );
  });

  it("audits create, change and delete with field names and non-secret values", () => {
    const mailbox = created();
    expect(lastAudit()).toMatchObject({
      action: "mailbox.create",
      changes: { login: { to: "invoices@contoso.com" }, password: "changed", smtpPort: { to: 587 } },
    });
    update(mailbox.id, 1, { smtpHost: "smtp-hve.office365.com", password: "new-password-2" });
    expect(lastAudit()).toMatchObject({
      action: "mailbox.update",
      changes: { smtpHost: { from: "smtp.office365.com", to: "smtp-hve.office365.com" }, password: "changed" },
    });
    deleteMailbox(db, world.adminA, world.tenantA.id, mailbox.id);
    expect(lastAudit()).toMatchObject({ action: "mailbox.delete", targetLabel: mailbox.name });
    const text = JSON.stringify(db.select().from(auditLog).all());
    expect(text).not.toContain("first-password");
    expect(text).not.toContain("new-password-2");
    expect(text).not.toContain("v1.test1.");
  });

  it("says a password that cannot be decrypted is unreadable instead of failing", () => {
    const mailbox = created();
    const other = created();
    // A ciphertext copied from another row must not open here.
    db.update(mailboxes).set({ passwordSealed: other.passwordSealed }).where(eq(mailboxes.id, mailbox.id)).run();
    expect(toMailboxView(getMailboxFor(db, world.adminA, world.tenantA.id, mailbox.id)).passwordState).toBe(
      "unreadable",
    );
  });

  it("keeps another tenant's mailboxes out of reach: list, read, edit, delete", () => {
    const theirs = createMailbox(
      db,
      world.adminB,
      mailboxInput(world.tenantB.id, { name: `Theirs ${++n}`, password: "their-password" }),
    );
    const before = JSON.stringify(db.select().from(mailboxes).where(eq(mailboxes.id, theirs.id)).get());
    expect(() => listMailboxesFor(db, world.adminA, world.tenantB.id)).toThrow("Not found");
    expect(() => toMailboxView(getMailboxFor(db, world.adminA, world.tenantB.id, theirs.id))).toThrow("Not found");
    expect(() => toMailboxView(getMailboxFor(db, world.adminA, world.tenantA.id, theirs.id))).toThrow("Not found");
    expect(() =>
      updateMailbox(db, world.adminA, {
        ...mailboxInput(world.tenantA.id, { password: "p" }),
        mailboxId: theirs.id,
        version: 1,
      }),
    ).toThrow("Not found");
    expect(() => deleteMailbox(db, world.adminA, world.tenantA.id, theirs.id)).toThrow("Not found");
    expect(() => deleteMailbox(db, world.adminA, world.tenantB.id, theirs.id)).toThrow("Not found");
    expect(JSON.stringify(db.select().from(mailboxes).where(eq(mailboxes.id, theirs.id)).get())).toBe(before);
  });
});

describe("the token cache follows the sign-in settings", () => {
  const cacheRows = (id: number) => db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, id)).all().length;
  const seedCache = (id: number) =>
    db
      .insert(tokenCaches)
      .values({ mailboxId: id, fingerprint: "f", cacheSealed: "v1.x", updatedAt: new Date() })
      .run();

  it.each([
    ["the password", { password: "another-password" }],
    ["the Login", { login: "other@contoso.com", password: "p-again" }],
    ["the ClientID", { azureClientId: "00000000-0000-4000-8000-000000000009", password: "p-again" }],
    ["the TenantID", { azureTenantId: "fabrikam.onmicrosoft.com", password: "p-again" }],
  ])("is dropped when %s changes", (_what, change) => {
    const mailbox = created();
    seedCache(mailbox.id);
    update(mailbox.id, 1, change);
    expect(cacheRows(mailbox.id)).toBe(0);
  });

  it("is kept when only the name changes", () => {
    const mailbox = created();
    seedCache(mailbox.id);
    update(mailbox.id, 1, { name: `Renamed ${++n}` });
    expect(cacheRows(mailbox.id)).toBe(1);
  });
});
