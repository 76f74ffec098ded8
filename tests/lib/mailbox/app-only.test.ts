import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, type Mailbox, mailboxes, tokenCaches } from "@/db/schema";
import { checkCertificate } from "@/lib/mailbox/app-credential";
import { generateCertificate } from "@/lib/mailbox/certificate";
import { toMailboxView } from "@/lib/mailbox/queries";
import { createMailbox, generateAppCertificate, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { mailboxTokenCacheStore } from "@/lib/mailbox/token-cache-store";
import { checkSettingsFor } from "@/lib/service/test-settings";
import { keyAndCertificate } from "../../support/certificates";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxForm } from "../../support/mailbox";

let db: Db;
let world: World;
let n = 0;
const SECRET = "Abc8Q~client-secret-value-0123456789abcdef";
const NEXT_YEAR = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

const appForm = (overrides: Record<string, string> = {}) =>
  mailboxForm({
    name: `App ${++n}`,
    signInMethod: "app",
    clientSecret: SECRET,
    clientSecretExpiresAt: NEXT_YEAR,
    ...overrides,
  });

async function create(form: Record<string, string>): Promise<Mailbox> {
  return createMailbox(db, world.adminA, saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...form }));
}

async function update(mailbox: Mailbox, form: Record<string, string>): Promise<Mailbox> {
  const input = saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...form });
  return updateMailbox(db, world.adminA, { ...input, mailboxId: mailbox.id, version: mailbox.version });
}

/** Every message of each field, joined: a field can fail more than one rule at once. */
function fieldErrors(form: Record<string, string>): Record<string, string> {
  const parsed = saveMailboxSchema.safeParse({ tenantId: String(world.tenantA.id), ...form });
  if (parsed.success) return {};
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0]);
    errors[field] = errors[field] ? `${errors[field]} ${issue.message}` : issue.message;
  }
  return errors;
}

const row = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;
const lastAudit = async () => (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)!;

describe("an app-only mailbox with a client secret", () => {
  it("stores the secret sealed and write-only, with its expiry; the page learns only that one is set", async () => {
    const mailbox = await create(appForm());
    expect(mailbox.signInMethod).toBe("app");
    expect(mailbox.clientSecretSealed).toMatch(/^v1\./);
    expect(JSON.stringify(await row(mailbox.id))).not.toContain(SECRET);
    expect(mailbox.appCredentialExpiresAt?.toISOString().slice(0, 10)).toBe(NEXT_YEAR);
    const view = toMailboxView(mailbox);
    expect(view.appCredentialState).toBe("secret");
    expect(JSON.stringify(view)).not.toContain(mailbox.clientSecretSealed!);
    expect(checkSettingsFor(mailbox)).toMatchObject({
      signInMethod: "app",
      appCredential: { kind: "secret", secret: SECRET },
    });
    expect((await lastAudit()).changes).toMatchObject({ clientSecret: "changed", signInMethod: { to: "app" } });
    expect(JSON.stringify(await lastAudit())).not.toContain(SECRET);
  });

  it.each([
    ["spaces around the secret", { clientSecret: ` ${SECRET} ` }, "clientSecret", /spaces around it/],
    [
      "the secret's ID pasted instead of its value",
      { clientSecret: "0b7c6d5e-1111-4222-8333-944455556666" },
      "clientSecret",
      /secret's ID/,
    ],
    ["no expiry date", { clientSecretExpiresAt: "" }, "clientSecretExpiresAt", /date the secret expires/],
    ["an expired secret", { clientSecretExpiresAt: "2020-01-01" }, "clientSecretExpiresAt", /already expired/],
    ["a password as well", { password: "user-password" }, "password", /leave Password empty/],
    ["no Azure fields", { azureClientId: "", azureTenantId: "" }, "azureClientId", /ClientID and TenantID/],
  ])("refuses %s with a field error", (_what, overrides, field, message) => {
    expect(fieldErrors(appForm(overrides))[field]).toMatch(message);
  });

  it("needs the secret again before it would go to a new server, and keeps everything on refusal", async () => {
    const mailbox = await create(appForm());
    const before = await row(mailbox.id);
    await expect(
      update(mailbox, appForm({ name: mailbox.name, clientSecret: "", smtpHost: "smtp.example.net" })),
    ).rejects.toThrow(
      "You changed SMTP Server. Type the client secret (or the certificate and its key) again: a stored secret is only ever sent where it was entered for.",
    );
    expect(await row(mailbox.id)).toEqual(before);
    const renamed = await update(
      mailbox,
      appForm({ name: "Renamed app box", clientSecret: "", clientSecretExpiresAt: "" }),
    );
    expect(renamed.clientSecretSealed).toBe(before.clientSecretSealed);
  });
});

describe("an app-only mailbox with a certificate", () => {
  it("keeps the public certificate, seals the key, and reads the expiry from the certificate", async () => {
    const pair = keyAndCertificate(90);
    const mailbox = await create(appForm({ clientSecret: "", clientSecretExpiresAt: "", ...pair }));
    expect(mailbox).toMatchObject({ certificatePem: pair.certificatePem, clientSecretSealed: null });
    expect(mailbox.privateKeySealed).toMatch(/^v1\./);
    expect(JSON.stringify(await row(mailbox.id))).not.toContain("PRIVATE KEY");
    const days = (mailbox.appCredentialExpiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(88);
    expect(days).toBeLessThan(91);
    expect(toMailboxView(mailbox).appCredentialState).toBe("certificate");
  });

  it.each([
    [
      "PEM garbage",
      () => ({
        certificatePem: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----",
        privateKeyPem: keyAndCertificate().privateKeyPem,
      }),
      "certificatePem",
      /not a PEM certificate/,
    ],
    [
      "a key of another certificate",
      () => ({ certificatePem: keyAndCertificate().certificatePem, privateKeyPem: keyAndCertificate().privateKeyPem }),
      "privateKeyPem",
      /does not belong/,
    ],
    ["an expired certificate", () => keyAndCertificate(-1), "certificatePem", /expired on/],
    [
      "a certificate without its key",
      () => ({ certificatePem: keyAndCertificate().certificatePem }),
      "privateKeyPem",
      /private key too/,
    ],
    [
      "an oversized upload",
      () => ({ certificatePem: "A".repeat(20_001), privateKeyPem: keyAndCertificate().privateKeyPem }),
      "certificatePem",
      /too long for a certificate/,
    ],
  ])("refuses %s with a field error, and nothing stored changes", async (_what, upload, field, message) => {
    const mailbox = await create(appForm());
    const before = await row(mailbox.id);
    const form = appForm({ name: mailbox.name, clientSecret: "", clientSecretExpiresAt: "", ...upload() });
    expect(fieldErrors(form)[field]).toMatch(message);
    expect(await row(mailbox.id)).toEqual(before);
  });
});

describe("switching the sign-in method", () => {
  it("discards the old method's secret and token cache, and the audit log says so", async () => {
    const mailbox = await create(mailboxForm({ name: `Switch ${++n}`, password: "the-user-password" }));
    await mailboxTokenCacheStore(db, mailbox, checkSettingsFor(mailbox), "https://login.example").write("{}");
    const app = await update(mailbox, appForm({ name: mailbox.name }));
    expect(app).toMatchObject({ signInMethod: "app", passwordSealed: null });
    expect(await db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, mailbox.id))).toEqual([]);
    expect((await lastAudit()).changes).toMatchObject({
      signInMethod: { from: "password", to: "app" },
      password: "changed",
      clientSecret: "changed",
    });

    const back = await update(app, mailboxForm({ name: mailbox.name, password: "a-new-user-password" }));
    expect(back).toMatchObject({ signInMethod: "password", clientSecretSealed: null, appCredentialExpiresAt: null });
    expect((await lastAudit()).changes).toMatchObject({
      signInMethod: { from: "app", to: "password" },
      clientSecret: "changed",
    });
  });

  it("refuses app-only without a secret or certificate, and a failed switch keeps the password", async () => {
    const mailbox = await create(mailboxForm({ name: `Switch ${++n}`, password: "the-user-password" }));
    await expect(
      update(mailbox, appForm({ name: mailbox.name, clientSecret: "", clientSecretExpiresAt: "" })),
    ).rejects.toThrow("App-only needs a client secret, or a certificate with its private key.");
    expect((await row(mailbox.id)).passwordSealed).toBe(mailbox.passwordSealed);
  });
});

describe("a certificate the portal generates", () => {
  it("makes a matching key and certificate valid for two years", () => {
    const generated = generateCertificate("Navigator Mail Test");
    expect(checkCertificate(generated.certificatePem, generated.privateKeyPem)).toMatchObject({ ok: true });
    const days = (generated.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(730);
    expect(generateCertificate("Another").certificatePem).not.toBe(generated.certificatePem);
  });

  it("switches the mailbox to app-only with the new certificate; the key is sealed and audited only as changed", async () => {
    const mailbox = await create(mailboxForm({ name: `Generate ${++n}`, password: "the-user-password" }));
    const updated = await generateAppCertificate(db, world.adminA, {
      tenantId: world.tenantA.id,
      mailboxId: mailbox.id,
      version: mailbox.version,
    });
    expect(updated).toMatchObject({ signInMethod: "app", passwordSealed: null, version: mailbox.version + 1 });
    expect(updated.certificatePem).toContain("BEGIN CERTIFICATE");
    expect(updated.privateKeySealed).toMatch(/^v1\./);
    expect(JSON.stringify(await row(mailbox.id))).not.toContain("PRIVATE KEY");
    expect(await lastAudit()).toMatchObject({
      action: "mailbox.certificate",
      changes: { privateKey: "changed", password: "changed" },
    });
    expect(checkSettingsFor(updated).appCredential).toMatchObject({
      kind: "certificate",
      certificatePem: updated.certificatePem,
    });
  });

  it("refuses a mailbox without Azure fields, an old version and another tenant's mailbox", async () => {
    const plain = await create(
      mailboxForm({ name: `Plain ${++n}`, azureClientId: "", azureTenantId: "", password: "pw-long-enough" }),
    );
    const generate = async (m: Mailbox, actor = world.adminA, tenantId = world.tenantA.id, version = m.version) =>
      generateAppCertificate(db, actor, { tenantId, mailboxId: m.id, version });
    await expect(generate(plain)).rejects.toThrow(/ClientID and TenantID first/);
    const oauth = await create(mailboxForm({ name: `Old ${++n}`, password: "pw-long-enough" }));
    await expect(generate(oauth, world.adminA, world.tenantA.id, oauth.version + 5)).rejects.toThrow(
      /reload to see the changes/,
    );
    await expect(generate(oauth, world.adminB, world.tenantA.id)).rejects.toThrow("Not found");
    await expect(generate(oauth, world.adminB, world.tenantB.id)).rejects.toThrow("Not found");
    expect(await row(oauth.id)).toEqual(oauth);
  });
});
