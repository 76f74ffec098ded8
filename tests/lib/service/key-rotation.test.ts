import { randomBytes } from "node:crypto";
import { eq, getTableColumns, getTableName, is, isNotNull, Table } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import * as schema from "@/db/schema";
import { auditLog, entraSetups, mailboxes, tokenCaches } from "@/db/schema";
import { open, SealError, seal, sealedKeyId } from "@/lib/crypto/seal";
import { getEnv } from "@/lib/env";
import { openMailboxPassword } from "@/lib/mailbox/password";
import { createMailbox } from "@/lib/mailbox/save";
import { mailboxTokenCacheStore, tokenCacheContext } from "@/lib/mailbox/token-cache-store";
import { setupKeyContext } from "@/lib/service/entra-setups/flow";
import { resealAll } from "@/lib/service/key-rotation";
import { checkSettingsFor } from "@/lib/service/test-settings";
import { keyAndCertificate } from "../../support/certificates";
import { freshDb, seedWorld, type World } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";

let db: Db;
let world: World;

beforeAll(async () => {
  db = await freshDb();
  world = await seedWorld(db);
});

describe("key rotation", () => {
  it("re-seals every secret under the new key, once", async () => {
    const boxes = await Promise.all(
      [1, 2, 3].map(async (i) =>
        createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: `M${i}`, password: `secret-${i}` })),
      ),
    );
    await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "No password" }));
    const newKey = { id: "k2027", key: randomBytes(32) };
    const keys = [newKey, ...getEnv().SECRETS_KEYS];

    expect(await resealAll(db, keys)).toEqual({ resealed: 3, current: 0, unreadable: [], dropped: 0 });
    expect(await resealAll(db, keys)).toEqual({ resealed: 0, current: 3, unreadable: [], dropped: 0 });

    for (const [i, box] of boxes.entries()) {
      const row = (await db.select().from(mailboxes).where(eq(mailboxes.id, box.id)))[0]!;
      expect(sealedKeyId(row.passwordSealed!)).toBe("k2027");
      expect(openMailboxPassword(row, [newKey])).toBe(`secret-${i + 1}`);
    }
  });

  it("reports secrets no configured key can open, and leaves them alone", async () => {
    const box = await createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantB.id, { name: "Orphan", password: "orphan-secret" }),
    );
    const stranger = [{ id: "only", key: randomBytes(32) }];
    const report = await resealAll(db, stranger);
    expect(report.unreadable).toContainEqual({
      owner: "mailbox",
      id: box.id,
      tenantId: world.tenantB.id,
      name: "Orphan",
    });
    expect((await db.select().from(mailboxes).where(eq(mailboxes.id, box.id)))[0]!.passwordSealed).toBe(
      box.passwordSealed,
    );
  });
});

describe("key rotation across every sealed column", () => {
  let db: Db;
  let world: World;

  beforeEach(async () => {
    db = await freshDb();
    world = await seedWorld(db);
  });

  /** Every value of every column whose name ends in _sealed, in any table: found from the schema, not a list. */
  /** Every value of every column named *_sealed, in every table the schema has: whatever the database. */
  async function everySealedValue(): Promise<{ column: string; value: string }[]> {
    const tables = (Object.values(schema) as unknown[]).filter((value): value is Table => is(value, Table));
    const found: { column: string; value: string }[] = [];
    for (const table of tables) {
      for (const column of Object.values(getTableColumns(table)).filter((c) => c.name.endsWith("_sealed"))) {
        const rows = await db
          .select({ v: column })
          .from(table as typeof schema.mailboxes)
          .where(isNotNull(column));
        found.push(...rows.map((row) => ({ column: `${getTableName(table)}.${column.name}`, value: String(row.v) })));
      }
    }
    return found;
  }

  /** An app-only Entra setup waiting for its test: the new certificate's key sealed to the setup row. */
  async function waitingSetup(id: string, keys = getEnv().SECRETS_KEYS) {
    const { privateKeyPem, certificatePem } = keyAndCertificate();
    const row = { id, tenantId: world.tenantA.id };
    await db.insert(entraSetups).values({
      ...row,
      kind: "app",
      appName: "Navigator Mail",
      directory: "contoso.com",
      status: "applied",
      startedBy: "root",
      createdAt: new Date(),
      certificatePem,
      privateKeySealed: seal(privateKeyPem, setupKeyContext(row), keys),
    });
    return { row, privateKeyPem };
  }

  it("leaves no sealed value that only the retired key opens, token caches included", async () => {
    const retired = getEnv().SECRETS_KEYS;
    const box = await createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantA.id, { name: "Cached", password: "cached-secret" }),
    );
    const cache = mailboxTokenCacheStore(db, box, checkSettingsFor(box), "https://login.example");
    await cache.write('{"RefreshToken":{"rt":{"secret":"refresh-token-canary"}}}');
    const appOnly = { signInMethod: "app", password: "", clientSecretExpiresAt: "2099-01-01" };
    await createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantA.id, { name: "App secret", ...appOnly, clientSecret: "app-secret-canary-value" }),
    );
    await createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantA.id, { name: "App certificate", ...appOnly, ...keyAndCertificate() }),
    );
    const setup = await waitingSetup("setup-1");
    const columns = new Set((await everySealedValue()).map((v) => v.column));
    expect(columns).toEqual(
      new Set([
        "mailboxes.password_sealed",
        "mailboxes.client_secret_sealed",
        "mailboxes.private_key_sealed",
        "token_caches.cache_sealed",
        "entra_setups.private_key_sealed",
      ]),
    );

    const next = { id: "k2028", key: randomBytes(32) };
    await resealAll(db, [next, ...retired]);
    const leftovers = (await everySealedValue()).filter((v) => sealedKeyId(v.value) !== next.id);
    expect(leftovers).toEqual([]);
    for (const { value } of await everySealedValue()) expect(() => open(value, "any", retired)).toThrow(SealError);
    const row = (await db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, box.id)))[0]!;
    expect(open(row.cacheSealed, tokenCacheContext(box), [next])).toContain("refresh-token-canary");
    const setupRow = (await db.select().from(entraSetups).where(eq(entraSetups.id, "setup-1")))[0]!;
    expect(open(setupRow.privateKeySealed!, setupKeyContext(setup.row), [next])).toBe(setup.privateKeyPem);
  });

  it("drops an unfinished setup whose key no configured key opens: starting again gives the app a new certificate", async () => {
    await waitingSetup("lost-setup", [{ id: "lost", key: randomBytes(32) }]);
    const report = await resealAll(db);
    expect(report).toMatchObject({ dropped: 1, unreadable: [] });
    expect(await db.select().from(entraSetups).where(eq(entraSetups.id, "lost-setup"))).toEqual([]);
  });

  it("drops a token cache no configured key opens, and says so in the audit log", async () => {
    const box = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Orphan cache" }));
    const lost = [{ id: "lost", key: randomBytes(32) }];
    await db.insert(tokenCaches).values({
      mailboxId: box.id,
      fingerprint: "x",
      cacheSealed: seal("{}", tokenCacheContext(box), lost),
      updatedAt: new Date(),
    });
    const report = await resealAll(db);
    expect(report.dropped).toBe(1);
    expect(await db.select().from(tokenCaches).where(eq(tokenCaches.mailboxId, box.id))).toEqual([]);
    const entry = (await db.select().from(auditLog).where(eq(auditLog.action, "keys.rotate")).orderBy(auditLog.id)).at(
      -1,
    )!;
    expect(entry.changes).toMatchObject({ droppedTokenCaches: { to: 1 } });
  });
});
