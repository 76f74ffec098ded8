import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, deviceSignIns, type Mailbox, mailboxes, tokenCaches } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { NotFoundError } from "@/lib/errors";
import { listMailboxesFor } from "@/lib/mailbox/queries";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { setupChecklist } from "@/lib/service/checklist";
import {
  cancelDeviceSignIn,
  type DeviceSignInView,
  getDeviceSignIn,
  openDeviceSignIn,
  SIGN_IN_LIMITS,
  startDeviceSignIn,
  takeOverSignIns,
} from "@/lib/service/device-sign-ins";
import { startMailboxTest, type TestEvent } from "@/lib/service/mailbox-tests";
import { signInStateOf } from "@/lib/service/sign-in-state";
import type { World } from "../../support/db";
import type { EmuUser } from "../../support/rig/entra-emulator";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

let rig: Rig;
let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
  rig.entra.deviceCodeInterval = 1;
});
afterAll(() => rig?.stop());

const deviceForm = (user: EmuUser, overrides: Record<string, string> = {}) =>
  rig.mailboxForm(user, { name: `Device ${++n}`, password: "", signInMethod: "device", ...overrides });

async function deviceMailbox(user: EmuUser, tenantId = world.tenantA.id): Promise<Mailbox> {
  const input = saveMailboxSchema.parse({ tenantId: String(tenantId), ...deviceForm(user) });
  return createMailbox(db, world.root, input);
}

const row = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;
const cacheOf = async (id: number) => (await db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, id)))[0];
const signInRow = async (id: string) => (await db.select().from(deviceSignIns).where(eq(deviceSignIns.id, id)))[0]!;
const refOf = (mailbox: Mailbox) => ({ tenantId: mailbox.tenantId, mailboxId: mailbox.id });

async function start(mailbox: Mailbox, actor: UserActor = world.adminA): Promise<DeviceSignInView> {
  const started = await startDeviceSignIn(db, actor, refOf(mailbox));
  if (!started.ok) throw new Error(started.refusal.message);
  return started.signIn;
}

async function settled(mailbox: Mailbox, id: string): Promise<DeviceSignInView> {
  let view = await getDeviceSignIn(db, world.adminA, refOf(mailbox), id);
  for (let i = 0; i < 100 && (view.status === "pending" || view.status === "starting"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await getDeviceSignIn(db, world.adminA, refOf(mailbox), id);
  }
  return view;
}

async function signedIn(user: EmuUser): Promise<Mailbox> {
  const mailbox = await deviceMailbox(user);
  const view = await start(mailbox);
  rig.entra.approveDeviceCode(view.userCode!, user.upn);
  expect(await settled(mailbox, view.id)).toMatchObject({ status: "succeeded", account: user.upn });
  return row(mailbox.id);
}

async function test(mailbox: Mailbox): Promise<TestEvent[]> {
  const started = await startMailboxTest(db, world.adminA, { ...refOf(mailbox), source: "saved" });
  if (!started.ok) throw new Error(started.refusal.message);
  const events: TestEvent[] = [];
  for await (const event of started.events) events.push(event);
  return events;
}

const tokenStep = (events: TestEvent[]) =>
  events.flatMap((e) => (e.type === "step" && e.step.name === "token" ? [e.step] : []))[0];

describe("Sign in with Microsoft (device code) for a saved mailbox", () => {
  it("shows the code, stores the sealed sign-in on approval, and the test then passes from it", async () => {
    const user = rig.addUser({ mfa: "required" });
    const mailbox = await deviceMailbox(user);
    expect(mailbox).toMatchObject({ signInMethod: "device", passwordSealed: null });
    expect(signInStateOf(mailbox)).toEqual({ kind: "awaiting-sign-in" });
    const listed = async () =>
      (await listMailboxesFor(db, world.adminA, mailbox.tenantId)).find((m) => m.id === mailbox.id);
    expect(await listed()).toMatchObject({ method: "device", missing: "awaiting sign-in" });

    const view = await start(mailbox);
    expect(view).toMatchObject({ status: "pending", verificationUri: "https://microsoft.com/devicelogin" });
    expect(view.userCode).toMatch(/^[A-Z]{9}$/);
    expect(view.waiting).toMatch(/Waiting for you/);
    expect((await openDeviceSignIn(db, mailbox.id))?.id).toBe(view.id);

    rig.entra.approveDeviceCode(view.userCode!, user.upn);
    const done = await settled(mailbox, view.id);
    expect(done).toMatchObject({ status: "succeeded", account: user.upn, userCode: null });

    const stored = await row(mailbox.id);
    expect(stored).toMatchObject({
      signedInAccount: user.upn,
      signedInBy: world.adminA.email,
      version: mailbox.version,
    });
    expect(signInStateOf(stored)).toMatchObject({ kind: "signed-in", account: user.upn });
    expect(await listed()).toMatchObject({ method: "device", missing: null });
    const cache = (await cacheOf(mailbox.id))!;
    expect(cache.cacheSealed).not.toMatch(/RefreshToken|refresh_token|secret/i);
    const audit = (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)!;
    expect(audit).toMatchObject({ action: "mailbox.sign_in", targetId: String(mailbox.id) });
    expect(JSON.stringify(audit.changes)).toContain(user.upn);

    const before = rig.entra.tokenRequests();
    const events = await test(stored);
    expect(events.at(-1)).toMatchObject({ type: "done", ok: true });
    expect(tokenStep(events)).toMatchObject({ summary: "Token from the cache (no request)" });
    expect(rig.entra.tokenRequests()).toBe(before);
    const checklist = setupChecklist(stored, undefined);
    expect(checklist.find((i) => i.key === "microsoft-sign-in")).toMatchObject({ value: `Signed in as ${user.upn}` });
    expect(checklist.find((i) => i.key === "public-client-flows")).toBeDefined();
    expect(checklist.find((i) => i.key === "client-secret")).toBeUndefined();
  });

  it("keeps the device code only sealed in the database, and erases it when the sign-in ends", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    const deviceCode = rig.entra.deviceCodeOf(view.userCode!);
    expect(deviceCode.length).toBeGreaterThan(40);
    const rows = JSON.stringify(await db.select().from(deviceSignIns));
    expect(rows).toContain(view.userCode!);
    expect(rows).not.toContain(deviceCode);
    expect(JSON.stringify(view)).not.toContain(deviceCode);
    expect((await signInRow(view.id)).deviceCodeSealed).toMatch(/^v1\./);
    await cancelDeviceSignIn(db, world.adminA, refOf(mailbox), view.id);
    expect((await signInRow(view.id)).deviceCodeSealed).toBeNull();
  });

  it("is polled on by another process once its poller stops, with the same code, and completes once", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    const codes = rig.entra.tokenRequests("devicecode");
    // The polling process stopped: its lease lapsed. (This process's poller sees the lease gone and
    // stops at its next answer, as a stalled process would.)
    await db
      .update(deviceSignIns)
      .set({ pollerId: "a stopped process", pollerUntil: new Date(Date.now() - 1) })
      .where(eq(deviceSignIns.id, view.id));
    const taken = await Promise.all([takeOverSignIns(db), takeOverSignIns(db), takeOverSignIns(db)]);
    expect(taken.reduce((a, b) => a + b, 0)).toBe(1);
    expect((await signInRow(view.id)).pollerId).not.toBe("a stopped process");
    // The first poller's last poll (sent while it held the lease) is answered before the user acts;
    // then it sees the lease gone and polls no more.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The user types the code they were shown before the process stopped.
    rig.entra.approveDeviceCode(view.userCode!, user.upn);
    const done = await settled(mailbox, view.id);
    expect(done).toMatchObject({ status: "succeeded", account: user.upn });
    expect(rig.entra.tokenRequests("devicecode")).toBe(codes);
    expect(await row(mailbox.id)).toMatchObject({ signedInAccount: user.upn });
    expect((await signInRow(view.id)).deviceCodeSealed).toBeNull();
    const audits = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, String(mailbox.id)));
    expect(audits.filter((a) => a.action === "mailbox.sign_in")).toHaveLength(1);
    expect(audits.find((a) => a.action === "mailbox.sign_in")).toMatchObject({ actorEmail: world.adminA.email });
  });

  it("never polls with a device code copied from another sign-in's row: the takeover ends it instead", async () => {
    const user = rig.addUser();
    const [donorBox, targetBox] = [await deviceMailbox(user), await deviceMailbox(rig.addUser())];
    const donor = await start(donorBox);
    const target = await start(targetBox);
    const polls = rig.entra.tokenRequests();
    // Both pollers stop; the target's row is given the donor's sealed code (a database write by an attacker).
    const sealed = (await signInRow(donor.id)).deviceCodeSealed;
    await db
      .update(deviceSignIns)
      .set({ pollerId: "a stopped process", pollerUntil: new Date(Date.now() - 1) })
      .where(eq(deviceSignIns.id, donor.id));
    await db
      .update(deviceSignIns)
      .set({ deviceCodeSealed: sealed, pollerId: "a stopped process", pollerUntil: new Date(Date.now() - 1) })
      .where(eq(deviceSignIns.id, target.id));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The donor's sign-in is resumed; the target's code opens only for the row it was sealed for.
    expect(await takeOverSignIns(db)).toBe(1);
    expect(await getDeviceSignIn(db, world.adminA, refOf(targetBox), target.id)).toMatchObject({
      status: "failed",
      diagnosis: { code: "DEVICE_EXPIRED" },
    });
    // The donor's own sign-in goes on and completes; the target mailbox never gets its tokens.
    rig.entra.approveDeviceCode(donor.userCode!, user.upn);
    expect(await settled(donorBox, donor.id)).toMatchObject({ status: "succeeded" });
    expect(await row(targetBox.id)).toMatchObject({ signedInAccount: null });
    expect(rig.entra.tokenRequests()).toBeGreaterThan(polls);
  });

  it("is not taken over while its poller keeps its lease", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    const poller = (await signInRow(view.id)).pollerId;
    expect(await takeOverSignIns(db)).toBe(0);
    expect((await signInRow(view.id)).pollerId).toBe(poller);
    await cancelDeviceSignIn(db, world.adminA, refOf(mailbox), view.id);
  });

  it("shows the sign-in already waiting when the button is pressed again, without a new code", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const first = await start(mailbox);
    const codes = rig.entra.tokenRequests("devicecode");
    const second = await start(mailbox);
    expect(second.id).toBe(first.id);
    expect(second.userCode).toBe(first.userCode);
    expect(rig.entra.tokenRequests("devicecode")).toBe(codes);
    await cancelDeviceSignIn(db, world.adminA, refOf(mailbox), first.id);
  });

  it("stores nothing when the account is not the Login", async () => {
    const user = rig.addUser();
    const other = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    rig.entra.approveDeviceCode(view.userCode!, other.upn);
    const done = await settled(mailbox, view.id);
    expect(done).toMatchObject({ status: "failed", diagnosis: { code: "DEVICE_WRONG_ACCOUNT" } });
    expect(done.diagnosis?.detail).toContain(other.upn);
    expect(await row(mailbox.id)).toMatchObject({ signedInAccount: null, signedInAt: null });
    expect(await cacheOf(mailbox.id)).toBeUndefined();
  });

  it("stores nothing when the settings are saved while the sign-in waits", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    const input = saveMailboxSchema.parse({
      tenantId: String(mailbox.tenantId),
      ...deviceForm(user, { name: "Renamed" }),
    });
    await updateMailbox(db, world.adminA, { ...input, mailboxId: mailbox.id, version: mailbox.version });
    rig.entra.approveDeviceCode(view.userCode!, user.upn);
    const done = await settled(mailbox, view.id);
    expect(done).toMatchObject({ status: "failed", diagnosis: { code: "DEVICE_SETTINGS_CHANGED" } });
    expect(await cacheOf(mailbox.id)).toBeUndefined();
    expect((await row(mailbox.id)).signedInAt).toBeNull();
  });

  it("stops on Cancel, and an approval after it stores nothing", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    expect(await cancelDeviceSignIn(db, world.adminA, refOf(mailbox), view.id)).toMatchObject({ status: "cancelled" });
    rig.entra.approveDeviceCode(view.userCode!, user.upn);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await getDeviceSignIn(db, world.adminA, refOf(mailbox), view.id)).status).toBe("cancelled");
    expect(await cacheOf(mailbox.id)).toBeUndefined();
  });

  it("keeps another tenant's admin out: start, status and cancel answer as if nothing existed", async () => {
    const user = rig.addUser();
    const mailbox = await deviceMailbox(user);
    const view = await start(mailbox);
    await expect(startDeviceSignIn(db, world.adminB, refOf(mailbox))).rejects.toThrow(NotFoundError);
    await expect(getDeviceSignIn(db, world.adminB, refOf(mailbox), view.id)).rejects.toThrow(NotFoundError);
    await expect(cancelDeviceSignIn(db, world.adminB, refOf(mailbox), view.id)).rejects.toThrow(NotFoundError);
    // Tenant B's own mailbox with tenant A's sign-in id: still nothing.
    const theirs = await deviceMailbox(rig.addUser(), world.tenantB.id);
    await expect(getDeviceSignIn(db, world.adminB, refOf(theirs), view.id)).rejects.toThrow(NotFoundError);
    await expect(cancelDeviceSignIn(db, world.adminB, refOf(theirs), view.id)).rejects.toThrow(NotFoundError);
    expect((await getDeviceSignIn(db, world.adminA, refOf(mailbox), view.id)).status).toBe("pending");
    await cancelDeviceSignIn(db, world.adminA, refOf(mailbox), view.id);
  });

  it(`lets a tenant have at most ${SIGN_IN_LIMITS.perTenant} sign-ins waiting`, async () => {
    const waiting: [Mailbox, DeviceSignInView][] = [];
    for (let i = 0; i < SIGN_IN_LIMITS.perTenant; i++) {
      const mailbox = await deviceMailbox(rig.addUser());
      waiting.push([mailbox, await start(mailbox)]);
    }
    const refused = await startDeviceSignIn(db, world.adminA, refOf(await deviceMailbox(rig.addUser())));
    expect(refused).toMatchObject({ ok: false, refusal: { kind: "capacity" } });
    // Another tenant is not held up by it.
    const theirs = await deviceMailbox(rig.addUser(), world.tenantB.id);
    const other = await startDeviceSignIn(db, world.root, refOf(theirs));
    expect(other.ok).toBe(true);
    if (other.ok) await cancelDeviceSignIn(db, world.root, refOf(theirs), other.signIn.id);
    for (const [mailbox, view] of waiting) await cancelDeviceSignIn(db, world.adminA, refOf(mailbox), view.id);
  });

  it("refuses a mailbox that is not set to Microsoft sign-in", async () => {
    const user = rig.addUser();
    const input = saveMailboxSchema.parse({
      tenantId: String(world.tenantA.id),
      ...rig.mailboxForm(user, { name: `Password ${++n}` }),
    });
    const mailbox = await createMailbox(db, world.root, input);
    const refused = await startDeviceSignIn(db, world.root, refOf(mailbox));
    expect(refused).toMatchObject({ ok: false, refusal: { kind: "invalid" } });
  });
});

describe("a signed-in mailbox over time", () => {
  it("asks to sign in again after Entra refuses the stored sign-in, and a new sign-in clears it", async () => {
    rig.entra.accessTokenLifetime = 60;
    const user = rig.addUser();
    const mailbox = await signedIn(user);
    rig.entra.revokeRefreshTokens(user.upn);
    const events = await test(mailbox);
    expect(tokenStep(events)).toMatchObject({ status: "failed", diagnosis: { code: "SIGN_IN_AGAIN" } });
    const lost = await row(mailbox.id);
    expect(signInStateOf(lost)).toMatchObject({ kind: "sign-in-again", code: "AADSTS50173", account: user.upn });

    const view = await start(lost);
    rig.entra.approveDeviceCode(view.userCode!, user.upn);
    expect(await settled(lost, view.id)).toMatchObject({ status: "succeeded" });
    expect(signInStateOf(await row(mailbox.id))).toMatchObject({ kind: "signed-in" });
    const again = await test(await row(mailbox.id));
    expect(again.at(-1)).toMatchObject({ type: "done", ok: true });
    rig.entra.accessTokenLifetime = 3600;
  });

  it("forgets the sign-in and its tokens when the method or a destination changes, and says so in the audit", async () => {
    const user = rig.addUser();
    const mailbox = await signedIn(user);
    expect(await cacheOf(mailbox.id)).toBeDefined();
    const input = saveMailboxSchema.parse({
      tenantId: String(mailbox.tenantId),
      ...rig.mailboxForm(user, { name: mailbox.name }),
    });
    const saved = await updateMailbox(db, world.adminA, { ...input, mailboxId: mailbox.id, version: mailbox.version });
    expect(saved).toMatchObject({ signInMethod: "password", signedInAccount: null, signedInAt: null });
    expect(await cacheOf(mailbox.id)).toBeUndefined();
    const audit = (await db.select().from(auditLog).orderBy(auditLog.id)).at(-1)!;
    expect(audit.changes).toMatchObject({ signInMethod: { from: "device", to: "password" }, password: "changed" });
  });
});
