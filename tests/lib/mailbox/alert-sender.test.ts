import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mailboxes } from "@/db/schema";
import { UserError } from "@/lib/errors";
import { createMailbox, deleteMailbox, generateAppCertificate, updateMailbox } from "@/lib/mailbox/save";
import { startDeviceSignIn } from "@/lib/service/device-sign-ins";
import { startEntraSetup } from "@/lib/service/entra-setups/flow";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";

// The first mailbox of this file's fresh database sends the portal's alerts for every tenant.
process.env.ALERT_SENDER_MAILBOX = "1";

let db: Db;
let world: World;
let senderId: number;
let otherId: number;
const row = async (id: number) => (await db.select().from(mailboxes).where(eq(mailboxes.id, id)))[0]!;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
  senderId = (await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Alerts" }))).id;
  otherId = (await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Invoices" }))).id;
  expect(senderId).toBe(1);
});

describe("the portal's alert sender (ALERT_SENDER_MAILBOX)", () => {
  const refusal = new UserError(
    "This mailbox sends the portal's alerts for every tenant: only a super-admin can change it.",
  );

  it("cannot be saved, re-pointed, given a certificate or deleted by an admin of its tenant", async () => {
    const version = (await row(senderId)).version;
    const repointed = { ...mailboxInput(world.tenantA.id, { name: "Alerts", smtpHost: "smtp.evil.example" }) };
    await expect(updateMailbox(db, world.adminA, { ...repointed, mailboxId: senderId, version })).rejects.toThrow(
      refusal,
    );
    await expect(
      generateAppCertificate(db, world.adminA, { tenantId: world.tenantA.id, mailboxId: senderId, version }),
    ).rejects.toThrow(refusal);
    await expect(deleteMailbox(db, world.adminA, world.tenantA.id, senderId)).rejects.toThrow(refusal);
    expect(await row(senderId)).toMatchObject({ version, smtpHost: "smtp.office365.com" });
  });

  it("cannot be signed in to Microsoft or set up in Entra by an admin of its tenant", async () => {
    const ref = { tenantId: world.tenantA.id, mailboxId: senderId };
    await expect(startDeviceSignIn(db, world.adminA, ref)).rejects.toThrow(refusal);
    await expect(
      startEntraSetup(db, world.adminA, ref, { directory: "contoso.com", appName: "Navigator Mail" }),
    ).rejects.toThrow(refusal);
  });

  it("is out of reach of another tenant's admin as if it did not exist", async () => {
    await expect(deleteMailbox(db, world.adminB, world.tenantA.id, senderId)).rejects.toThrow("Not found");
  });

  it("stays the tenant's to change for every other mailbox, and a super-admin's for this one", async () => {
    const other = await row(otherId);
    const renamed = mailboxInput(world.tenantA.id, { name: "Invoices EU" });
    expect(
      (await updateMailbox(db, world.adminA, { ...renamed, mailboxId: otherId, version: other.version })).name,
    ).toBe("Invoices EU");
    const sender = await row(senderId);
    const kept = mailboxInput(world.tenantA.id, { name: "Portal alerts" });
    expect((await updateMailbox(db, world.root, { ...kept, mailboxId: senderId, version: sender.version })).name).toBe(
      "Portal alerts",
    );
  });
});
