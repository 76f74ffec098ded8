import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, mailboxTests } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { setupChecklist } from "@/lib/service/checklist";
import { startMailboxTest, type TestEvent } from "@/lib/service/mailbox-tests";
import { createUser } from "@/lib/users/queries";
import { asActor, PASSWORD, type World } from "../../support/db";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

let rig: Rig;
let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
});

afterAll(() => rig?.stop());

function formFor(user: { upn: string; password: string }, overrides: Record<string, string> = {}) {
  return rig.mailboxForm(user, { name: `Box ${++n}`, ...overrides });
}

async function mailboxFor(user: { upn: string; password: string }, overrides: Record<string, string> = {}) {
  return createMailbox(
    db,
    world.root,
    saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...formFor(user, overrides) }),
  );
}

async function newAdmin(): Promise<UserActor> {
  const user = await createUser(db, world.root, {
    email: `admin${++n}@alpha.example`,
    name: "A",
    role: "tenant_admin",
    tenantId: world.tenantA.id,
    password: PASSWORD,
  });
  return asActor(user);
}

async function collect(events: AsyncIterable<TestEvent>): Promise<TestEvent[]> {
  const all: TestEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

async function runTest(
  actor: UserActor,
  mailboxId: number,
  source: "saved" | "form" = "saved",
  form?: Record<string, string>,
) {
  const started = await startMailboxTest(db, actor, { tenantId: world.tenantA.id, mailboxId, source, form });
  return started.ok ? { ...started, all: await collect(started.events) } : started;
}

describe("a test of a stored mailbox", () => {
  it("streams the plan, each step and the result, and records the run and an audit entry", async () => {
    const admin = await newAdmin();
    const user = rig.addUser();
    const mailbox = await mailboxFor(user);
    const result = await runTest(admin, mailbox.id);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.all.map((e) => (e.type === "step" ? `step:${e.step.name}:${e.step.status}` : e.type))).toEqual([
      "plan",
      "step:settings:passed",
      "step:network:passed",
      "step:token:passed",
      "step:claims:passed",
      "step:smtp:passed",
      "step:imap:passed",
      "done",
    ]);
    const run = (await db.select().from(mailboxTests).where(eq(mailboxTests.id, result.testId)))[0]!;
    expect(run).toMatchObject({ outcome: "passed", triggeredBy: admin.email, source: "saved", failureCode: null });
    expect(run.arrivalMs).toBeGreaterThanOrEqual(0);
    const audit = (await db.select().from(auditLog).where(eq(auditLog.action, "mailbox.test")).orderBy(auditLog.id)).at(
      -1,
    )!;
    expect(audit).toMatchObject({
      actorEmail: admin.email,
      targetId: String(mailbox.id),
      changes: { outcome: { to: "passed" } },
    });
    const everything = JSON.stringify([run, await db.select().from(auditLog)]);
    expect(everything).not.toContain(user.password);
    expect(everything).not.toMatch(/eyJ[\w-]{10,}\./);
    // Every step this mailbox needs is ticked (a shared Mailbox's FullAccess and Send As it does not need).
    expect(setupChecklist(mailbox, run).filter((i) => i.status !== "passed" && i.status !== "not-needed")).toEqual([]);
    expect(
      setupChecklist(mailbox, run)
        .filter((i) => i.status === "not-needed")
        .map((i) => i.key),
    ).toEqual(["mailbox-access", "send-as"]);

    const again = await runTest(admin, mailbox.id);
    const token = again.ok ? again.all.find((e) => e.type === "step" && e.step.name === "token") : undefined;
    expect(token && token.type === "step" && token.step.summary).toBe("Token from the cache (no request)");
  });

  it("refuses a second run while one is running", async () => {
    const admin = await newAdmin();
    const mailbox = await mailboxFor(rig.addUser());
    const first = await startMailboxTest(db, admin, {
      tenantId: world.tenantA.id,
      mailboxId: mailbox.id,
      source: "saved",
    });
    const second = await startMailboxTest(db, admin, {
      tenantId: world.tenantA.id,
      mailboxId: mailbox.id,
      source: "saved",
    });
    expect(second).toMatchObject({
      ok: false,
      refusal: { kind: "busy", message: "A test of this mailbox is already running. Wait for it to finish." },
    });
    if (first.ok) await collect(first.events);
  });

  it("limits a mailbox to 5 tests a minute", async () => {
    const mailbox = await mailboxFor(rig.addUser());
    for (let i = 0; i < 5; i++) expect((await runTest(await newAdmin(), mailbox.id)).ok).toBe(true);
    const sixth = await runTest(await newAdmin(), mailbox.id);
    expect(sixth).toMatchObject({
      ok: false,
      refusal: {
        kind: "rate_limited",
        message: expect.stringMatching(/^This mailbox was tested 5 times in the last minute\. Try again in \d+ s\.$/),
      },
    });
  });

  it("limits a user to 5 tests a minute", async () => {
    const admin = await newAdmin();
    for (let i = 0; i < 5; i++) expect((await runTest(admin, (await mailboxFor(rig.addUser())).id)).ok).toBe(true);
    expect(await runTest(admin, (await mailboxFor(rig.addUser())).id)).toMatchObject({
      ok: false,
      refusal: { kind: "rate_limited", message: expect.stringMatching(/^You started 5 tests in the last minute/) },
    });
  });

  it("after a refused sign-in, waits before trying the same credentials again, without a token request", async () => {
    const admin = await newAdmin();
    const user = rig.addUser();
    const mailbox = await mailboxFor(user, { password: "wrong-password" });
    const failed = await runTest(admin, mailbox.id);
    expect(failed.ok && failed.all.at(-1)).toMatchObject({ type: "done", ok: false });
    const requests = rig.entra.tokenRequests();
    const refused = await runTest(admin, mailbox.id);
    expect(refused).toMatchObject({
      ok: false,
      refusal: { kind: "cooldown", message: expect.stringContaining("failed with AADSTS50126") },
    });
    expect(rig.entra.tokenRequests()).toBe(requests);
    await updateMailbox(db, world.root, {
      ...saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...formFor(user, { name: mailbox.name }) }),
      mailboxId: mailbox.id,
      version: 1,
    });
    const fixed = await runTest(admin, mailbox.id);
    expect(fixed.ok && fixed.all.at(-1)).toMatchObject({ type: "done", ok: true });
  });
});

describe("a test of unsaved form values", () => {
  it("refuses a changed destination without the password, then tests the typed values without saving them", async () => {
    const admin = await newAdmin();
    const user = rig.addUser();
    const mailbox = await mailboxFor(user);
    const other = rig.addUser();
    const refused = await runTest(admin, mailbox.id, "form", formFor(other, { name: mailbox.name, password: "" }));
    const rule =
      "You changed Login. Type the password again: a stored password is only ever sent where it was entered for.";
    expect(refused).toMatchObject({
      ok: false,
      refusal: { kind: "invalid", message: rule, fieldErrors: { password: [rule] } },
    });
    const tested = await runTest(admin, mailbox.id, "form", formFor(other, { name: mailbox.name }));
    expect(tested.ok && tested.all.at(-1)).toMatchObject({ type: "done", ok: true });
    expect((await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, mailbox.id))).at(-1)!.source).toBe(
      "form",
    );
    const stored = await db.select().from(mailboxTests);
    expect(JSON.stringify(stored)).not.toContain(other.password);
  });

  it("uses the stored password when only non-destination fields differ", async () => {
    const admin = await newAdmin();
    const user = rig.addUser();
    const mailbox = await mailboxFor(user);
    const tested = await runTest(admin, mailbox.id, "form", formFor(user, { name: "Another name", password: "" }));
    expect(tested.ok && tested.all.at(-1)).toMatchObject({ type: "done", ok: true });
  });

  it("shows validation errors for the form instead of testing", async () => {
    const admin = await newAdmin();
    const mailbox = await mailboxFor(rig.addUser());
    expect(
      await runTest(admin, mailbox.id, "form", { ...formFor(rig.addUser()), azureTenantId: "common" }),
    ).toMatchObject({
      ok: false,
      refusal: { kind: "invalid", fieldErrors: { azureTenantId: [expect.stringContaining("not a specific tenant")] } },
    });
  });

  it("never reaches another tenant's mailbox", async () => {
    const theirs = await createMailbox(
      db,
      world.root,
      saveMailboxSchema.parse({ tenantId: String(world.tenantB.id), ...formFor(rig.addUser()) }),
    );
    await expect(
      startMailboxTest(db, world.adminA, { tenantId: world.tenantB.id, mailboxId: theirs.id, source: "saved" }),
    ).rejects.toThrow("Not found");
    await expect(
      startMailboxTest(db, world.adminA, { tenantId: world.tenantA.id, mailboxId: theirs.id, source: "saved" }),
    ).rejects.toThrow("Not found");
    expect(await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, theirs.id))).toEqual([]);
  });
});

describe("a test of an app-only mailbox", () => {
  async function appMailbox(secret: string) {
    const mailbox = rig.addUser().upn;
    const { clientId } = rig.addAppOnlyApp({ secrets: [{ value: secret }] }, [mailbox]);
    const form = rig.mailboxForm(
      { upn: mailbox, password: "" },
      { name: `App ${++n}`, type: "smtp", azureClientId: clientId },
    );
    const expires = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    const app = { ...form, signInMethod: "app", clientSecret: secret, clientSecretExpiresAt: expires };
    return createMailbox(db, world.root, saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...app }));
  }

  it("sends with the stored secret; a second test takes the app token from the sealed cache", async () => {
    const mailbox = await appMailbox("app-secret-value-for-the-service-test");
    const first = await runTest(await newAdmin(), mailbox.id);
    expect(first.ok && first.all.at(-1)).toMatchObject({ type: "done", ok: true });
    const second = await runTest(await newAdmin(), mailbox.id);
    const token = second.ok ? second.all.find((e) => e.type === "step" && e.step.name === "token") : undefined;
    expect(token).toMatchObject({ step: { status: "passed", metrics: { tokenRequests: 0 } } });
  });

  it("tests a typed secret without saving it, under the same rule as saving", async () => {
    const mailbox = await appMailbox("the-stored-app-secret-value");
    const form = {
      ...rig.mailboxForm(
        { upn: mailbox.login, password: "" },
        { name: mailbox.name, type: "smtp", azureClientId: mailbox.azureClientId! },
      ),
      signInMethod: "app",
      smtpPort: "465",
    };
    const refused = await runTest(await newAdmin(), mailbox.id, "form", form);
    expect(refused).toMatchObject({
      ok: false,
      refusal: { kind: "invalid", fieldErrors: { clientSecret: [expect.stringContaining("You changed SMTP Port")] } },
    });
    const wrong = await runTest(await newAdmin(), mailbox.id, "form", {
      ...form,
      clientSecret: "a-wrong-app-secret-value",
      clientSecretExpiresAt: "2099-01-01",
    });
    const token = wrong.ok ? wrong.all.find((e) => e.type === "step" && e.step.name === "token") : undefined;
    expect(token).toMatchObject({ step: { status: "failed", diagnosis: { code: "AADSTS7000215" } } });
  });
});
