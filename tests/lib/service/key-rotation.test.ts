import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { mailboxes } from "@/db/schema";
import { sealedKeyId } from "@/lib/crypto/seal";
import { getEnv } from "@/lib/env";
import { openMailboxPassword } from "@/lib/mailbox/password";
import { createMailbox } from "@/lib/mailbox/save";
import { resealAll } from "@/lib/service/key-rotation";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";

let db: Db;
let world: World;

beforeAll(async () => {
  db = freshDb();
  world = await seedWorld(db);
});

describe("key rotation", () => {
  it("re-seals every secret under the new key, once", () => {
    const boxes = [1, 2, 3].map((i) =>
      createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: `M${i}`, password: `secret-${i}` })),
    );
    createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "No password" }));
    const newKey = { id: "k2027", key: randomBytes(32) };
    const keys = [newKey, ...getEnv().SECRETS_KEYS];

    expect(resealAll(db, keys)).toEqual({ resealed: 3, current: 0, unreadable: [], dropped: 0 });
    expect(resealAll(db, keys)).toEqual({ resealed: 0, current: 3, unreadable: [], dropped: 0 });

    for (const [i, box] of boxes.entries()) {
      const row = db.select().from(mailboxes).where(eq(mailboxes.id, box.id)).get()!;
      expect(sealedKeyId(row.passwordSealed!)).toBe("k2027");
      expect(openMailboxPassword(row, [newKey])).toBe(`secret-${i + 1}`);
    }
  });

  it("reports secrets no configured key can open, and leaves them alone", () => {
    const box = createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantB.id, { name: "Orphan", password: "orphan-secret" }),
    );
    const stranger = [{ id: "only", key: randomBytes(32) }];
    const report = resealAll(db, stranger);
    expect(report.unreadable).toContainEqual({ mailboxId: box.id, tenantId: world.tenantB.id, name: "Orphan" });
    expect(db.select().from(mailboxes).where(eq(mailboxes.id, box.id)).get()!.passwordSealed).toBe(box.passwordSealed);
  });
});
