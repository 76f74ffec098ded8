import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { apiTokenIssues, auditLog, type Mailbox, tokenCaches } from "@/db/schema";
import { appOnlyReach, appOnlyWarning, authenticateApiKey, createApiKey } from "@/lib/api-keys/keys";
import { createApiKeySchema } from "@/lib/api-keys/schema";
import type { ApiKeyActor } from "@/lib/auth/actor";
import { decodeClaims } from "@/lib/engine/claims";
import type { TokenPurpose } from "@/lib/engine/settings";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { issueMailboxToken } from "@/lib/service/mailbox-tokens";
import type { World } from "../../support/db";
import type { EmuUser } from "../../support/rig/entra-emulator";
import type { Rig } from "../../support/rig/rig";
import { startRigWorld } from "../../support/rig-world";

// The token endpoint's service for keys limited to one purpose, app-only reach, and how issues are audited.
let rig: Rig;
let db: Db;
let world: World;
let n = 0;
const SECRET = "Abc8Q~client-secret-value-0123456789abcdef";

beforeAll(async () => {
  ({ rig, db, world } = await startRigWorld());
});
afterAll(() => rig?.stop());

async function keyFor(options: { tokenPurpose?: TokenPurpose; mailboxIds?: number[] } = {}): Promise<ApiKeyActor> {
  const input = createApiKeySchema.parse({
    tenantId: String(world.tenantA.id),
    name: `System ${++n}`,
    scopes: ["tokens:issue"],
    mailboxIds: (options.mailboxIds ?? []).map(String),
    tokenPurpose: options.tokenPurpose ?? "",
  });
  const { key } = await createApiKey(db, world.adminA, input);
  const auth = await authenticateApiKey(db, `Bearer ${key}`, "127.0.0.1");
  if (!auth.ok) throw new Error(auth.refusal);
  return auth.actor;
}

async function mailbox(form: Record<string, string>): Promise<Mailbox> {
  const input = saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...form, name: `Mailbox ${++n}` });
  return createMailbox(db, world.adminA, input);
}

/** An app-only mailbox whose app holds these application permissions. */
async function appOnlyMailbox(roles: string[], clientId?: string): Promise<Mailbox> {
  const user: EmuUser = rig.addUser();
  const app = clientId
    ? { clientId }
    : rig.addAppOnlyApp({ secrets: [{ value: SECRET }], appRoles: roles }, [user.upn]);
  return mailbox(
    rig.mailboxForm(user, {
      type: "smtp",
      password: "",
      signInMethod: "app",
      azureClientId: app.clientId,
      clientSecret: SECRET,
      clientSecretExpiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10),
    }),
  );
}

const ask = (actor: ApiKeyActor, box: Mailbox, purpose?: TokenPurpose) =>
  issueMailboxToken(db, actor, { tenantId: box.tenantId, mailboxId: box.id }, purpose);

describe("a key limited to one purpose", () => {
  it("is refused a token that carries more than its purpose, naming the extra permission", async () => {
    const box = await appOnlyMailbox(["SMTP.SendAsApp", "IMAP.AccessAsApp"]);
    const answer = await ask(await keyFor({ tokenPurpose: "smtp" }), box);
    expect(answer).toMatchObject({ ok: false, refusal: { kind: "forbidden" } });
    if (answer.ok || !("refusal" in answer)) throw new Error("expected a refusal");
    expect(answer.refusal.message).toContain("IMAP.AccessAsApp");
    expect(JSON.stringify(answer)).not.toMatch(/eyJ[\w-]{10,}\./);
    // A key for both protocols gets the same token.
    const both = await ask(await keyFor(), box);
    expect(both).toMatchObject({ ok: true, token: { scope: "SMTP.SendAsApp IMAP.AccessAsApp" } });
  });

  it("gets a token that carries only its purpose, and may not ask for the other one", async () => {
    const box = await appOnlyMailbox(["SMTP.SendAsApp"]);
    const smtpKey = await keyFor({ tokenPurpose: "smtp" });
    const answer = await ask(smtpKey, box);
    if (!answer.ok) throw new Error(JSON.stringify(answer));
    expect(answer.token.scope).toBe("SMTP.SendAsApp");
    expect(decodeClaims(answer.token.access_token)?.roles).toEqual(["SMTP.SendAsApp"]);
    expect(await ask(smtpKey, box, "imap")).toMatchObject({ ok: false, refusal: { kind: "forbidden" } });
    expect(await ask(smtpKey, box, "smtp")).toMatchObject({ ok: true });
  });

  it("is refused a delegated token that also carries IMAP", async () => {
    const user = rig.addUser();
    const box = await mailbox(rig.mailboxForm(user));
    // A token for both protocols sits in the cache (as after a test): an SMTP-only key may not have it.
    expect(await ask(await keyFor(), box)).toMatchObject({
      ok: true,
      token: { scope: "SMTP.Send IMAP.AccessAsUser.All" },
    });
    const answer = await ask(await keyFor({ tokenPurpose: "smtp" }), box);
    expect(answer).toMatchObject({ ok: false, refusal: { kind: "forbidden" } });
    if (answer.ok || !("refusal" in answer)) throw new Error("expected a refusal");
    expect(answer.refusal.message).toContain("IMAP.AccessAsUser.All");
  });

  it("is refused by the form when the purpose is not one of the two", () => {
    const parsed = createApiKeySchema.safeParse({
      tenantId: "1",
      name: "x",
      scopes: ["tokens:issue"],
      tokenPurpose: "pop",
    });
    expect(parsed.success).toBe(false);
  });
});

describe("app-only reach on the key form", () => {
  it("warns that a key limited to one app-only mailbox reaches the others of the same app", async () => {
    const orders = await appOnlyMailbox(["SMTP.SendAsApp"]);
    const invoices = await appOnlyMailbox(["SMTP.SendAsApp"], orders.azureClientId!);
    const reach = await appOnlyReach(db, world.tenantA.id, [orders.id]);
    expect(reach).toContainEqual({ clientId: orders.azureClientId, chosen: [orders.name], others: [invoices.name] });
    const warning = appOnlyWarning(reach, true);
    expect(warning).toContain(
      `${orders.name} signs in as the app ${orders.azureClientId}, and so does ${invoices.name}`,
    );
    expect(warning).toContain("every mailbox the app has rights on");
    // A delegated mailbox alone: nothing to warn about.
    const delegated = await mailbox(rig.mailboxForm(rig.addUser()));
    expect(appOnlyWarning(await appOnlyReach(db, world.tenantA.id, [delegated.id]), true)).toBeNull();
  });
});

describe("token issues in the audit log", () => {
  it("writes one entry a minute per key and mailbox, however many new tokens it hands out", async () => {
    const box = await mailbox(rig.mailboxForm(rig.addUser()));
    const key = await keyFor();
    const tokens = new Set<string>();
    for (let i = 0; i < 4; i++) {
      // A new token each time (the cache dropped, a second apart, so each expires at another moment).
      await db.delete(tokenCaches).where(eq(tokenCaches.mailboxId, box.id));
      const answer = await ask(key, box);
      if (!answer.ok) throw new Error(JSON.stringify(answer));
      tokens.add(answer.token.access_token);
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    expect(tokens.size).toBe(4);
    const entries = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "mailbox.token"), eq(auditLog.targetId, String(box.id))));
    expect(entries).toHaveLength(1);
    const counted = (
      await db
        .select()
        .from(apiTokenIssues)
        .where(and(eq(apiTokenIssues.apiKeyId, key.id), eq(apiTokenIssues.mailboxId, box.id)))
    )[0];
    expect(counted?.issued).toBe(4);
  });
});
