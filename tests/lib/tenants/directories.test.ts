import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, type Mailbox, mailboxes, tenantDirectories } from "@/db/schema";
import { authenticateApiKey, createApiKey } from "@/lib/api-keys/keys";
import type { UserActor } from "@/lib/auth/actor";
import { NotFoundError, UserError } from "@/lib/errors";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { getDeviceSignIn, startDeviceSignIn } from "@/lib/service/device-sign-ins";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { issueMailboxToken } from "@/lib/service/mailbox-tokens";
import { allowedDirectories, setDirectories } from "@/lib/tenants/directories";
import { createTenant, saveTenantDefaults } from "@/lib/tenants/queries";
import { tenantDirectoriesSchema } from "@/lib/tenants/schema";
import type { World } from "../../support/db";
import type { EmuTenant, EmuUser } from "../../support/rig/entra-emulator";
import { RIG_CLIENT_ID, type Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

// A portal tenant bound to its Microsoft organisation: trust on first use, the save refusal, the
// token refusal (test, API, Microsoft sign-in), and who may change the list.
let rig: Rig;
let db: Db;
let world: World;
let n = 0;
/** Another Microsoft organisation, with its own user of the same app: the attacker's target. */
let fabrikam: EmuTenant;
let victim: EmuUser;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
  rig.entra.deviceCodeInterval = 1;
  victim = { upn: "ceo@fabrikam.com", password: "pw-fabrikam-ceo" };
  fabrikam = rig.entra.addTenant({
    domains: ["fabrikam.com"],
    users: [victim],
    apps: [{ clientId: RIG_CLIENT_ID, publicClient: true, consented: ["SMTP.Send", "IMAP.AccessAsUser.All"] }],
  });
});
afterAll(() => rig?.stop());

/** A portal tenant of its own, with an admin, so each test starts unbound. */
async function freshTenant(): Promise<{ tenantId: number; admin: UserActor }> {
  const tenant = await createTenant(db, world.root, { name: `Org ${++n}`, slug: `org-${n}` });
  const admin: UserActor = { ...world.adminA, tenantId: tenant.id };
  return { tenantId: tenant.id, admin };
}

async function mailboxIn(tenantId: number, user: EmuUser, overrides: Record<string, string> = {}): Promise<Mailbox> {
  const form = rig.mailboxForm(user, { name: `Mailbox ${++n}`, ...overrides });
  return createMailbox(db, world.root, saveMailboxSchema.parse({ tenantId: String(tenantId), ...form }));
}

async function testOf(actor: UserActor, mailbox: Mailbox) {
  const started = await startMailboxTest(db, actor, {
    tenantId: mailbox.tenantId,
    mailboxId: mailbox.id,
    source: "saved",
  });
  if (!started.ok) throw new Error(started.refusal.message);
  return testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant: "" });
}

const claimsStep = (result: Awaited<ReturnType<typeof testOf>>) => result.steps.find((s) => s.name === "claims");

describe("a tenant bound to its Microsoft organisation", () => {
  it("is bound by its first successful sign-in (trust on first use), audited, and shown", async () => {
    const { tenantId, admin } = await freshTenant();
    expect(await allowedDirectories(db, tenantId)).toEqual({ tenantIds: [], domains: [] });
    const mailbox = await mailboxIn(tenantId, rig.addUser());
    const result = await testOf(admin, mailbox);
    expect(claimsStep(result)?.status).toBe("passed");
    expect(await allowedDirectories(db, tenantId)).toEqual({ tenantIds: [rig.tenant.id], domains: ["contoso.com"] });
    const entries = await db.select().from(tenantDirectories).where(eq(tenantDirectories.tenantId, tenantId));
    expect(entries.every((e) => e.source === "first-sign-in" && e.addedBy === admin.email)).toBe(true);
    const audit = await db.select().from(auditLog).where(eq(auditLog.action, "tenant.directories"));
    expect(audit.filter((a) => a.tenantId === tenantId)).toHaveLength(1);
  });

  it("refuses at save a mailbox whose TenantID or Login domain is outside the list, next to the field", async () => {
    const { tenantId, admin } = await freshTenant();
    await testOf(admin, await mailboxIn(tenantId, rig.addUser()));
    // The attack: point a mailbox at another organisation's user.
    const attack = async () => mailboxIn(tenantId, victim, { azureTenantId: fabrikam.id });
    await expect(attack()).rejects.toThrow(UserError);
    try {
      await attack();
    } catch (error) {
      expect(error).toMatchObject({ field: "azureTenantId" });
      expect((error as Error).message).toContain(`tenant ID ${rig.tenant.id}, contoso.com`);
    }
    // The organisation's own TenantID with another organisation's Login.
    try {
      await mailboxIn(tenantId, victim);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ field: "login" });
      expect((error as Error).message).toContain("fabrikam.com is not listed");
    }
    // A TenantID given as a domain must be listed as a domain.
    await expect(mailboxIn(tenantId, rig.addUser(), { azureTenantId: "fabrikam.com" })).rejects.toThrow(/not listed/);
    // Re-pointing a saved mailbox is refused the same way, and the row is left as it was.
    const own = await mailboxIn(tenantId, rig.addUser());
    const form = rig.mailboxForm(victim, { name: own.name, azureTenantId: fabrikam.id });
    const input = saveMailboxSchema.parse({ tenantId: String(tenantId), ...form });
    await expect(updateMailbox(db, admin, { ...input, mailboxId: own.id, version: own.version })).rejects.toThrow(
      UserError,
    );
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, own.id)))[0]).toEqual(own);
    // The tenant's default app registration too.
    await expect(
      saveTenantDefaults(db, admin, {
        tenantId,
        azureClientId: RIG_CLIENT_ID,
        azureTenantId: fabrikam.id,
        cloud: "global",
      }),
    ).rejects.toThrow(/not listed/);
    // A plain-password mailbox does not sign in with Entra: not judged.
    const basic = await mailboxIn(tenantId, victim, { azureClientId: "", azureTenantId: "" });
    expect(basic.signInMethod).toBe("basic");
  });

  it("refuses a token Microsoft issued in another organisation: in a test, through the API, after a Microsoft sign-in", async () => {
    const { tenantId, admin } = await freshTenant();
    // Saved while the tenant was unbound, then bound to Contoso by a super-admin.
    const phishing = await mailboxIn(tenantId, victim, { azureTenantId: fabrikam.id });
    const device = await mailboxIn(tenantId, victim, {
      azureTenantId: fabrikam.id,
      password: "",
      signInMethod: "device",
    });
    await setDirectories(db, world.root, tenantId, [
      { kind: "tenant-id", value: rig.tenant.id },
      { kind: "domain", value: "contoso.com" },
    ]);

    const result = await testOf(admin, phishing);
    expect(claimsStep(result)).toMatchObject({ status: "failed", diagnosis: { code: "DIRECTORY_NOT_ALLOWED" } });
    expect(claimsStep(result)?.diagnosis?.detail).toContain(fabrikam.id);

    const { key } = await createApiKey(db, world.root, {
      tenantId,
      name: `System ${n}`,
      scopes: ["tokens:issue"],
      mailboxIds: [],
    });
    const auth = await authenticateApiKey(db, `Bearer ${key}`, "127.0.0.1");
    if (!auth.ok) throw new Error(auth.refusal);
    const answer = await issueMailboxToken(db, auth.actor, { tenantId, mailboxId: phishing.id });
    expect(answer).toMatchObject({ ok: false, diagnosis: { code: "DIRECTORY_NOT_ALLOWED" } });
    expect(JSON.stringify(answer)).not.toMatch(/eyJ[\w-]{10,}\./);
    // Asked again at once: the recorded refusal answers, Microsoft is not asked.
    const before = rig.entra.tokenRequests();
    expect(await issueMailboxToken(db, auth.actor, { tenantId, mailboxId: phishing.id })).toMatchObject({ ok: false });
    expect(rig.entra.tokenRequests()).toBe(before);

    const started = await startDeviceSignIn(db, admin, { tenantId, mailboxId: device.id });
    if (!started.ok) throw new Error(started.refusal.message);
    rig.entra.approveDeviceCode(started.signIn.userCode!, victim.upn);
    let view = await getDeviceSignIn(db, admin, { tenantId, mailboxId: device.id }, started.signIn.id);
    for (let i = 0; i < 100 && (view.status === "pending" || view.status === "starting"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = await getDeviceSignIn(db, admin, { tenantId, mailboxId: device.id }, started.signIn.id);
    }
    expect(view).toMatchObject({ status: "failed", diagnosis: { code: "DIRECTORY_NOT_ALLOWED" } });
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, device.id)))[0]?.signedInAt).toBeNull();
  });

  it("binds to one organisation when two first sign-ins race", async () => {
    const { tenantId, admin } = await freshTenant();
    const contoso = await mailboxIn(tenantId, rig.addUser());
    const other = await mailboxIn(tenantId, victim, { azureTenantId: fabrikam.id });
    const [a, b] = await Promise.all([testOf(admin, contoso), testOf(admin, other)]);
    const passed = [a, b].filter((r) => claimsStep(r)?.status === "passed");
    expect(passed).toHaveLength(1);
    expect((await allowedDirectories(db, tenantId)).tenantIds).toHaveLength(1);
  });

  it("is changed by super-admins only; a tenant admin's attempt is refused and changes nothing", async () => {
    const { tenantId, admin } = await freshTenant();
    const entries = [{ kind: "tenant-id" as const, value: fabrikam.id }];
    await expect(setDirectories(db, admin, tenantId, entries)).rejects.toThrow();
    expect((await allowedDirectories(db, tenantId)).tenantIds).toEqual([]);
    await expect(setDirectories(db, world.root, 999_999, entries)).rejects.toThrow(NotFoundError);
    await setDirectories(db, world.root, tenantId, entries);
    expect((await allowedDirectories(db, tenantId)).tenantIds).toEqual([fabrikam.id]);
    // Emptied: the next successful sign-in binds it again.
    await setDirectories(db, world.root, tenantId, []);
    expect(await allowedDirectories(db, tenantId)).toEqual({ tenantIds: [], domains: [] });
  });

  it("takes the super-admin's list as typed, and refuses what is not a tenant ID or domain", () => {
    const parse = (directories: string) => tenantDirectoriesSchema.safeParse({ tenantId: "1", directories });
    expect(parse(`${fabrikam.id.toUpperCase()}\n fabrikam.com, Fabrikam.com`).data?.directories).toEqual([
      { kind: "tenant-id", value: fabrikam.id },
      { kind: "domain", value: "fabrikam.com" },
    ]);
    expect(parse("").data?.directories).toEqual([]);
    expect(parse("fabrikam.com").error?.issues[0]?.message).toMatch(/Directory \(tenant\) ID/);
    expect(parse(`${fabrikam.id}\n'; DROP TABLE tenants; --`).success).toBe(false);
    expect(parse(`${fabrikam.id}\nx\u0007.com`).success).toBe(false);
    expect(parse("a.com ".repeat(800)).success).toBe(false);
  });
});
