import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { type Mailbox, tokenCaches } from "@/db/schema";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { startMailboxTest, type TestEvent } from "@/lib/service/mailbox-tests";
import type { World } from "../../support/db";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

// A tenant admin changes where mail goes while a test of the saved settings is fetching its token.
// The token must never follow the change: not written back into the cache, not sent to the new server.

let rig: Rig;
let db: Db;
let world: World;
let n = 0;

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
});

afterAll(() => rig?.stop());

async function drain(events: AsyncIterable<TestEvent>): Promise<TestEvent[]> {
  const all: TestEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function tokenStep(events: TestEvent[]) {
  const event = events.find((e) => e.type === "step" && e.step.name === "token");
  return event?.type === "step" ? event.step : undefined;
}

/** Starts a test of the saved settings that stops right before its token would be cached. */
async function pausedTest(mailbox: Mailbox) {
  let reachWrite!: () => void;
  let resume!: () => void;
  const atWrite = new Promise<void>((resolve) => (reachWrite = resolve));
  const released = new Promise<void>((resolve) => (resume = resolve));
  const started = await startMailboxTest(
    db,
    world.adminA,
    { tenantId: world.tenantA.id, mailboxId: mailbox.id, source: "saved" },
    {
      beforeCacheWrite: async () => {
        reachWrite();
        await released;
      },
    },
  );
  if (!started.ok) throw new Error(started.refusal.message);
  return { atWrite, resume, events: drain(started.events) };
}

async function newMailbox(): Promise<Mailbox> {
  const form = rig.mailboxForm(rig.addUser(), { name: `Race ${++n}` });
  return createMailbox(db, world.adminA, saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...form }));
}

/** A test of the saved settings, run to its end. */
async function testSaved(mailbox: Mailbox, actor = world.adminA): Promise<TestEvent[]> {
  const started = await startMailboxTest(db, actor, {
    tenantId: world.tenantA.id,
    mailboxId: mailbox.id,
    source: "saved",
  });
  if (!started.ok) throw new Error(started.refusal.message);
  return drain(started.events);
}

const cachedRows = async (mailbox: Mailbox) =>
  await db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, mailbox.id));

async function save(mailbox: Mailbox, form: Record<string, string>): Promise<Mailbox> {
  const input = saveMailboxSchema.parse({
    tenantId: String(world.tenantA.id),
    ...rig.mailboxForm({ upn: mailbox.login, password: "" }, { name: mailbox.name, ...form }),
  });
  return updateMailbox(db, world.adminA, { ...input, mailboxId: mailbox.id, version: mailbox.version });
}

describe("a save during a test", () => {
  it("a new SMTP server with a password the admin typed gets no cached token", async () => {
    const mailbox = await newMailbox();
    const running = await pausedTest(mailbox);
    await running.atWrite;
    // The attacker's server: port 465 of the rig, which records every AUTH it receives.
    const moved = await save(mailbox, { smtpPort: "465", password: "a-password-the-attacker-typed" });
    running.resume();
    expect((await running.events).at(-1)).toMatchObject({ type: "done", ok: true });
    expect(await cachedRows(mailbox)).toEqual([]);

    const requestsBefore = rig.entra.tokenRequests();
    const authsBefore = rig.smtp.authentications.length;
    const events = await testSaved(moved);
    expect(tokenStep(events)).toMatchObject({ status: "failed", diagnosis: { code: "AADSTS50126" } });
    expect(rig.entra.tokenRequests() - requestsBefore).toBe(1);
    const reached465 = rig.smtp.authentications.slice(authsBefore).filter((a) => a.port === 465);
    expect(reached465).toEqual([]);
  });

  it("removing the stored password leaves nothing to sign in with, even for a server changed afterwards", async () => {
    const mailbox = await newMailbox();
    const running = await pausedTest(mailbox);
    await running.atWrite;
    const cleared = await save(mailbox, { clearPassword: "on" });
    running.resume();
    await running.events;
    expect(await cachedRows(mailbox)).toEqual([]);
    const moved = await save(cleared, { smtpPort: "465" });

    const requestsBefore = rig.entra.tokenRequests();
    const authsBefore = rig.smtp.authentications.length;
    const events = await testSaved(moved);
    expect(tokenStep(events)).toMatchObject({ status: "failed", diagnosis: { code: "NO_PASSWORD" } });
    expect(rig.entra.tokenRequests() - requestsBefore).toBe(0);
    expect(rig.smtp.authentications.slice(authsBefore)).toEqual([]);
  });

  it("a test that no save interrupts still caches its token for the next one", async () => {
    const mailbox = await newMailbox();
    const running = await pausedTest(mailbox);
    await running.atWrite;
    running.resume();
    await running.events;
    expect(tokenStep(await testSaved(mailbox, world.root))).toMatchObject({
      status: "passed",
      metrics: { tokenRequests: 0 },
    });
  });
});
