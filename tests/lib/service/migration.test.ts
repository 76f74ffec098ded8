import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, entraSetups, type Mailbox, mailboxes } from "@/db/schema";
import { type UserActor, userActorOf } from "@/lib/auth/actor";
import { NotFoundError, UserError } from "@/lib/errors";
import { openMailboxPassword } from "@/lib/mailbox/password";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { type DeviceSignInView, getDeviceSignIn, startDeviceSignIn } from "@/lib/service/device-sign-ins";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { migrationOverview, moveToAppOf } from "@/lib/service/migration";
import { createTenant } from "@/lib/tenants/queries";
import { createUser } from "@/lib/users/queries";
import type { World } from "../../support/db";
import type { EmuUser } from "../../support/rig/entra-emulator";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

// Moving mailboxes off the password grant: the overview, and each move proven by a test before the
// mailbox changes (and left as it was when the test fails).
let rig: Rig;
let db: Db;
let world: World;
let mover: UserActor;
let n = 0;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
  rig.entra.deviceCodeInterval = 1;
  const user = await createUser(db, world.root, {
    email: "mover@alpha.example",
    name: "Mover",
    role: "tenant_admin",
    tenantId: world.tenantA.id,
    password: "Correct-Horse-9-battery",
  });
  mover = userActorOf(user);
});
afterAll(() => rig?.stop());

const row = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;
const refOf = (m: Mailbox) => ({ tenantId: m.tenantId, mailboxId: m.id });

async function mailbox(user: EmuUser, overrides: Record<string, string> = {}, tenantId = world.tenantA.id) {
  const input = saveMailboxSchema.parse({
    tenantId: String(tenantId),
    ...rig.mailboxForm(user, { name: `Box ${++n}`, ...overrides }),
  });
  return createMailbox(db, world.root, input);
}

/** What the last tests said, as the monitoring would have recorded it. */
async function tested(m: Mailbox, health: "healthy" | "failing", code: string | null = null) {
  await db
    .update(mailboxes)
    .set({ health, lastFailureCode: code, lastTestAt: new Date() })
    .where(eq(mailboxes.id, m.id));
}

async function settled(m: Mailbox, id: string, actor: UserActor): Promise<DeviceSignInView> {
  let view = await getDeviceSignIn(db, actor, refOf(m), id);
  for (let i = 0; i < 150 && (view.status === "pending" || view.status === "starting"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await getDeviceSignIn(db, actor, refOf(m), id);
  }
  return view;
}

/** An app-only mailbox of the tenant, signing in with a client secret: the app a move can reuse. */
async function appOnlyDonor(tenantId = world.tenantA.id) {
  const user = rig.addUser();
  const { clientId, servicePrincipalId } = rig.addAppOnlyApp(
    { secrets: [{ value: "donor-secret-value" }], appRoles: ["SMTP.SendAsApp", "IMAP.AccessAsApp"] },
    [user.upn],
  );
  const expires = new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10);
  const donor = await mailbox(
    user,
    {
      password: "",
      signInMethod: "app",
      azureClientId: clientId,
      clientSecret: "donor-secret-value",
      clientSecretExpiresAt: expires,
    },
    tenantId,
  );
  await tested(donor, "healthy");
  return { donor, servicePrincipalId };
}

describe("the migration overview", () => {
  it("counts by method and transport, and lists the password grant worst first, for its tenant only", async () => {
    const tenant = await createTenant(db, world.root, { name: "Gamma", slug: "gamma" });
    const make = (overrides: Record<string, string> = {}) => mailbox(rig.addUser(), overrides, tenant.id);
    const healthy = await make();
    const mfa = await make();
    const failing = await make();
    await make({ password: "", signInMethod: "device" });
    await make({ transport: "graph" });
    await tested(healthy, "healthy");
    await tested(mfa, "failing", "AADSTS50076");
    await tested(failing, "failing", "SMTP_AUTH_DISABLED");

    const overview = await migrationOverview(db, world.root, tenant.id);
    expect(overview.counts).toEqual([
      { signInMethod: "device", transport: "smtp_imap", mailboxes: 1 },
      { signInMethod: "password", transport: "graph", mailboxes: 1 },
      { signInMethod: "password", transport: "smtp_imap", mailboxes: 3 },
    ]);
    expect(overview.rows.map((r) => [r.id, r.state])).toEqual([
      [mfa.id, "mfa-blocked"],
      [failing.id, "failing"],
      [expect.any(Number), "untested"],
      [healthy.id, "healthy"],
    ]);
    expect(overview.rows[0]!.target).toMatchObject({ method: "app", reason: expect.stringContaining("Entra") });

    // Where the organisation would not let the setup register an app, the Microsoft sign-in is proposed.
    await db.insert(entraSetups).values({
      id: `setup-${n}`,
      tenantId: tenant.id,
      kind: "app",
      appName: "Navigator Mail",
      directory: "contoso.com",
      status: "failed",
      failureCode: "SETUP_ROLE_MISSING",
      startedBy: "root@example.com",
      createdAt: new Date(),
    });
    expect((await migrationOverview(db, world.root, tenant.id)).rows[0]!.target).toMatchObject({
      method: "device",
      reason: expect.stringContaining("SETUP_ROLE_MISSING"),
    });

    // A page at a time (50 rows), worst first across the pages, each mailbox on exactly one.
    for (let i = 0; i < 50; i++) await make();
    const first = await migrationOverview(db, world.root, tenant.id);
    const second = await migrationOverview(db, world.root, tenant.id, { page: 2 });
    expect([first.total, first.pages, first.rows.length, second.rows.length]).toEqual([54, 2, 50, 4]);
    expect(first.rows.slice(0, 2).map((r) => r.id)).toEqual([mfa.id, failing.id]);
    expect(second.rows.at(-1)!.id).toBe(healthy.id);
    const ids = [...first.rows, ...second.rows].map((r) => r.id);
    expect(new Set(ids).size).toBe(54);
    expect((await migrationOverview(db, world.root, tenant.id, { page: 99 })).page).toBe(2);

    // Another tenant's admin sees nothing of it; only super-admins see every tenant at once.
    await expect(migrationOverview(db, world.adminB, tenant.id)).rejects.toThrow(NotFoundError);
    await expect(migrationOverview(db, world.adminA, null)).rejects.toThrow(NotFoundError);
    const everywhere = await migrationOverview(db, world.root, null);
    expect(everywhere.rows.map((r) => r.id)).toEqual(expect.arrayContaining([mfa.id, failing.id]));
    expect(everywhere.total).toBeGreaterThanOrEqual(54);
  });
});

describe("moving to the Microsoft sign-in", () => {
  it("switches only after the test with the new sign-in passed, audited, and the stored sign-in serves the next test", async () => {
    const user = rig.addUser({ mfa: "required" });
    const m = await mailbox(user);
    const started = await startDeviceSignIn(db, mover, refOf(m), { move: true });
    if (!started.ok) throw new Error(started.refusal.message);
    // The mailbox is unchanged while its user signs in.
    expect(await row(m.id)).toMatchObject({ signInMethod: "password", version: m.version });
    rig.entra.approveDeviceCode(started.signIn.userCode!, user.upn);
    expect(await settled(m, started.signIn.id, mover)).toMatchObject({ status: "succeeded", account: user.upn });

    const moved = await row(m.id);
    expect(moved).toMatchObject({
      signInMethod: "device",
      passwordSealed: null,
      signedInAccount: user.upn,
      version: m.version + 1,
    });
    const audit = (await db.select().from(auditLog).where(eq(auditLog.action, "mailbox.move"))).at(-1)!;
    expect(audit).toMatchObject({ targetId: String(m.id), actorEmail: mover.email });
    expect(audit.changes).toMatchObject({ signInMethod: { from: "password", to: "device" } });
    expect(JSON.stringify(audit.changes)).not.toContain(user.password);

    const before = rig.entra.tokenRequests();
    const next = await startMailboxTest(db, world.root, { ...refOf(moved), source: "saved" });
    if (!next.ok) throw new Error(next.refusal.message);
    expect((await testToEnd(next, { id: m.id, name: m.name, tenant: "" })).ok).toBe(true);
    expect(rig.entra.tokenRequests()).toBe(before);
  });

  it("leaves the mailbox as it was when the test with the new sign-in fails, and says why", async () => {
    const user = rig.addUser();
    const shared = rig.addSharedMailbox();
    // The Login has no FullAccess on the Mailbox: the sign-in works, the test does not.
    const m = await mailbox(user, { type: "imap", mailboxAddress: shared });
    const started = await startDeviceSignIn(db, mover, refOf(m), { move: true });
    if (!started.ok) throw new Error(started.refusal.message);
    rig.entra.approveDeviceCode(started.signIn.userCode!, user.upn);
    const done = await settled(m, started.signIn.id, mover);
    expect(done).toMatchObject({ status: "failed", diagnosis: { code: "IMAP_NO_FULL_ACCESS" } });
    const after = await row(m.id);
    expect(after).toMatchObject({ signInMethod: "password", version: m.version, signedInAccount: null });
    expect(openMailboxPassword(after)).toBe(user.password);
    const audit = (await db.select().from(auditLog).where(eq(auditLog.action, "mailbox.move"))).at(-1)!;
    expect(audit.changes).toMatchObject({ outcome: { to: "IMAP_NO_FULL_ACCESS" } });
  });

  it("is refused for a mailbox not on the password grant, and for another tenant's mailbox", async () => {
    const device = await mailbox(rig.addUser(), { password: "", signInMethod: "device" });
    expect(await startDeviceSignIn(db, mover, refOf(device), { move: true })).toMatchObject({
      ok: false,
      refusal: { kind: "invalid" },
    });
    const other = await mailbox(rig.addUser(), {}, world.tenantB.id);
    await expect(startDeviceSignIn(db, mover, refOf(other), { move: true })).rejects.toThrow(NotFoundError);
  });
});

describe("moving to app-only with the app another mailbox signs in with", () => {
  it("switches once the test with that app passes; the credential is sealed to this mailbox", async () => {
    const { donor, servicePrincipalId } = await appOnlyDonor();
    const user = rig.addUser();
    const m = await mailbox(user);
    rig.exchange.grant(servicePrincipalId, user.upn);
    const moved = await moveToAppOf(db, mover, { ...refOf(m), version: m.version }, donor.id);
    expect(moved.ok).toBe(true);
    const after = await row(m.id);
    expect(after).toMatchObject({ signInMethod: "app", passwordSealed: null, azureClientId: donor.azureClientId });
    // The same secret, sealed again for this row: the donor's sealed text would not open here.
    expect(after.clientSecretSealed).not.toBeNull();
    expect(after.clientSecretSealed).not.toBe((await row(donor.id)).clientSecretSealed);
    const next = await startMailboxTest(db, world.root, { ...refOf(after), source: "saved" });
    if (!next.ok) throw new Error(next.refusal.message);
    expect((await testToEnd(next, { id: m.id, name: m.name, tenant: "" })).ok).toBe(true);
  });

  it("leaves the mailbox as it was when Exchange refuses the app for it, with the line that fixes it", async () => {
    const { donor } = await appOnlyDonor();
    const user = rig.addUser();
    const m = await mailbox(user);
    const moved = await moveToAppOf(db, mover, { ...refOf(m), version: m.version }, donor.id);
    expect(moved).toMatchObject({ ok: false, diagnosis: { code: "SMTP_APP_NOT_PERMITTED" } });
    const after = await row(m.id);
    expect(after).toMatchObject({ signInMethod: "password", version: m.version, clientSecretSealed: null });
    expect(openMailboxPassword(after)).toBe(user.password);
  });

  it("refuses another tenant's app, a stale version and a mailbox already moved", async () => {
    const { donor: foreign } = await appOnlyDonor(world.tenantB.id);
    const m = await mailbox(rig.addUser());
    await expect(moveToAppOf(db, mover, { ...refOf(m), version: m.version }, foreign.id)).rejects.toThrow(
      NotFoundError,
    );
    const { donor } = await appOnlyDonor();
    await expect(moveToAppOf(db, mover, { ...refOf(m), version: m.version + 1 }, donor.id)).rejects.toThrow(UserError);
    await expect(moveToAppOf(db, mover, { ...refOf(donor), version: donor.version }, donor.id)).rejects.toThrow(
      /no longer uses the password grant/,
    );
  });
});
