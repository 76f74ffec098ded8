import fs from "node:fs";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { apiKeys, auditLog, type Mailbox, mailboxes, mailboxTests, tokenCaches } from "@/db/schema";
import { createApiKey, revokeApiKey } from "@/lib/api-keys/keys";
import { createApiKeySchema } from "@/lib/api-keys/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox, updateMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { TOKEN_LIMITS } from "@/lib/service/mailbox-tokens";
import { createTenant } from "@/lib/tenants/queries";
import { createUser } from "@/lib/users/queries";
import { launchBrowser, screenshot, signInWith } from "../support/browser";
import { asActor, closeOpened } from "../support/db";
import { loadSpec } from "../support/openapi";
import type { Portal } from "../support/portal";
import { readmeExample, runToEnd } from "../support/readme";
import type { EmuUser } from "../support/rig/entra-emulator";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

let rig: Rig;
let portal: Portal;
let db: Db;
let spec: Awaited<ReturnType<typeof loadSpec>>;
let root: UserActor;
let adminA: UserActor;
let adminB: UserActor;
const box: Record<"invoices" | "notify" | "broken" | "unsigned" | "other" | "shared", Mailbox> = {} as never;
const keys: Record<"full" | "smtpOnly" | "readOnly" | "limited" | "tenantB" | "revoked" | "expired", string> =
  {} as never;
let invoicesUser: EmuUser;
const APP_SECRET = "api-test-app-secret~value-0123456789";
const CANARY_PASSWORD = "canary-password-never-in-an-answer";

beforeAll(async () => {
  rig = await startRig();
  ({ portal, db, root } = await startRigPortal(rig));
  spec = await loadSpec(portal.url);
  const tenantA = await createTenant(db, root, { name: "Alpha", slug: "alpha" });
  const tenantB = await createTenant(db, root, { name: "Beta", slug: "beta" });
  const admin = (email: string, tenantId: number) =>
    createUser(db, root, { email, name: email, role: "tenant_admin", tenantId, password: "an admin password 1" });
  adminA = asActor(await admin("a@alpha.example", tenantA.id));
  adminB = asActor(await admin("b@beta.example", tenantB.id));
  const save = async (tenantId: number, form: Record<string, string>) =>
    createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenantId), ...form }));

  invoicesUser = rig.addUser({ password: CANARY_PASSWORD });
  box.invoices = await save(tenantA.id, rig.mailboxForm(invoicesUser, { name: "Invoices" }));
  const notifyMailbox = rig.addUser().upn;
  const { clientId } = rig.addAppOnlyApp({ secrets: [{ value: APP_SECRET }] }, [notifyMailbox]);
  box.notify = await save(tenantA.id, {
    ...rig.mailboxForm({ upn: notifyMailbox, password: "" }, { name: "Notify", type: "smtp", azureClientId: clientId }),
    signInMethod: "app",
    clientSecret: APP_SECRET,
    clientSecretExpiresAt: "2099-01-01",
  });
  box.broken = await save(
    tenantA.id,
    rig.mailboxForm({ ...rig.addUser(), password: "not-the-password" }, { name: "Broken" }),
  );
  box.other = await save(tenantB.id, rig.mailboxForm(rig.addUser(), { name: "Other" }));
  const sharedMailbox = rig.addSharedMailbox();
  box.shared = await save(
    tenantB.id,
    rig.mailboxForm(rig.addUser(), { name: "Shared desk", mailboxAddress: sharedMailbox, sendAs: "desk@contoso.com" }),
  );

  const key = async (actor: UserActor, tenantId: number, fields: Record<string, unknown>) =>
    (await createApiKey(db, actor, createApiKeySchema.parse({ tenantId, ...fields }))).key;
  const all = ["mailboxes:read", "tokens:issue", "tests:run"];
  keys.full = await key(adminA, tenantA.id, { name: "ERP", scopes: all });
  keys.readOnly = await key(adminA, tenantA.id, { name: "Reporting", scopes: ["mailboxes:read"] });
  keys.limited = await key(adminA, tenantA.id, { name: "Notifier", scopes: all, mailboxIds: [box.notify.id] });
  keys.tenantB = await key(adminB, tenantB.id, { name: "Beta ERP", scopes: all });
  keys.smtpOnly = await key(adminA, tenantA.id, { name: "Sender", scopes: ["tokens:issue"], tokenPurpose: "smtp" });
  keys.revoked = await key(adminA, tenantA.id, { name: "Old", scopes: all });
  const revokedId = (await db.select().from(apiKeys).where(eq(apiKeys.name, "Old")))[0]!.id;
  await revokeApiKey(db, adminA, tenantA.id, revokedId);
  keys.expired = await key(adminA, tenantA.id, { name: "Trial", scopes: all, expiresAt: "2099-01-01" });
  await db
    .update(apiKeys)
    .set({ expiresAt: new Date(Date.now() - 1000) })
    .where(eq(apiKeys.name, "Trial"));
}, 180_000);

afterAll(async () => {
  if (db) await closeOpened(db);
  await portal?.stop();
  await rig?.stop();
});

const url = (p: string) => `${portal.url}/api/v1${p}`;

/** Calls the API and checks the answer against the OpenAPI document before the test looks at it. */
async function call(
  method: "GET" | "POST",
  template: string,
  options: { id?: number | string; key?: string; body?: string; headers?: Record<string, string>; query?: string } = {},
  // biome-ignore lint/suspicious/noExplicitAny: every answer is checked against the OpenAPI document first
): Promise<{ status: number; body: any; headers: Headers }> {
  const p = template.replace("{id}", String(options.id ?? ""));
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const response = await fetch(url(p) + (options.query ?? ""), { method, headers, body: options.body });
  const copy = response.clone();
  const body = await spec.check(response, method, template);
  return { status: copy.status, body, headers: copy.headers };
}

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 and describes every operation", () => {
    expect(Object.keys(spec.doc.paths).sort()).toEqual([
      "/mailboxes",
      "/mailboxes/{id}",
      "/mailboxes/{id}/messages",
      "/mailboxes/{id}/tests",
      "/mailboxes/{id}/token",
    ]);
  });
});

describe("API keys", () => {
  it.each([
    ["no key", undefined, "Send the API key"],
    ["a malformed key", "not-a-key", "does not hold an API key"],
    ["an unknown key", `nvm_000000000000_${"A".repeat(43)}`, "not known"],
    ["a revoked key", "revoked", "revoked"],
    ["an expired key", "expired", "expired"],
  ])("refuses %s with 401 and WWW-Authenticate", async (_what, key, detail) => {
    const value = key === "revoked" || key === "expired" ? keys[key] : key;
    const answer = await call("GET", "/mailboxes", { key: value });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toContain("Bearer");
    expect(answer.body.detail).toContain(detail);
  });

  it("does not take a session cookie on /api/v1, and a key opens no page", async () => {
    const signIn = await fetch(`${portal.url}/api/auth/csrf`);
    const cookie = signIn.headers.getSetCookie().join("; ");
    expect((await call("GET", "/mailboxes", { headers: { cookie } })).status).toBe(401);
    const page = await fetch(`${portal.url}/tenants/alpha`, {
      headers: { authorization: `Bearer ${keys.full}` },
      redirect: "manual",
    });
    expect([302, 303, 307]).toContain(page.status);
    expect(page.headers.get("location")).toContain("/signin");
  });

  it("needs the scope of the operation (403)", async () => {
    const answer = await call("POST", "/mailboxes/{id}/token", { id: box.invoices.id, key: keys.readOnly });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain("tokens:issue");
  });

  it("keeps a key inside its tenant and its mailboxes: everything else is 404", async () => {
    for (const [key, id] of [
      [keys.tenantB, box.invoices.id],
      [keys.full, box.other.id],
      [keys.limited, box.invoices.id],
    ] as const) {
      expect((await call("GET", "/mailboxes/{id}", { id, key })).status).toBe(404);
      expect((await call("POST", "/mailboxes/{id}/token", { id, key })).status).toBe(404);
      expect((await call("POST", "/mailboxes/{id}/tests", { id, key })).status).toBe(404);
    }
    const limited = await call("GET", "/mailboxes", { key: keys.limited });
    expect(limited.body.items.map((m: { id: number }) => m.id)).toEqual([box.notify.id]);
  });

  it("records when and from where a key was last used", async () => {
    const row = (await db.select().from(apiKeys).where(eq(apiKeys.name, "ERP")))[0]!;
    expect(row.lastUsedAt).toBeInstanceOf(Date);
    expect(row.lastUsedFrom).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(row.secretHash).not.toContain(keys.full.slice(17));
  });
});

describe("GET /mailboxes", () => {
  it("pages through the tenant's mailboxes with a cursor", async () => {
    const first = await call("GET", "/mailboxes", { key: keys.full, query: "?limit=2" });
    expect(first.body.items.map((m: { name: string }) => m.name)).toEqual(["Invoices", "Notify"]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call("GET", "/mailboxes", {
      key: keys.full,
      query: `?limit=2&cursor=${first.body.next_cursor}`,
    });
    expect(second.body).toMatchObject({ items: [{ name: "Broken" }], next_cursor: null });
  });

  it("names the bad query parameter (400)", async () => {
    for (const query of ["?limit=0", "?limit=abc", "?cursor=%00", "?colour=red"]) {
      const answer = await call("GET", "/mailboxes", { key: keys.full, query });
      expect(answer.status, query).toBe(400);
      expect(Object.keys(answer.body.errors)).toHaveLength(1);
    }
  });
});

describe("GET /mailboxes/{id}", () => {
  it("gives the settings, method, last test and expiry, and never a secret", async () => {
    const answer = await call("GET", "/mailboxes/{id}", { id: box.notify.id, key: keys.full });
    expect(answer.body).toMatchObject({
      id: box.notify.id,
      sign_in_method: "app",
      smtp: { host: rig.ip, port: 587 },
      imap: null,
      credential_expires_at: "2099-01-01T00:00:00.000Z",
      last_test: null,
    });
    expect(answer.body).toMatchObject({
      login: box.notify.login,
      mailbox: box.notify.login,
      send_as: box.notify.login,
    });
    expect(JSON.stringify(answer.body)).not.toContain(APP_SECRET);
    const invoices = await call("GET", "/mailboxes/{id}", { id: box.invoices.id, key: keys.full });
    expect(JSON.stringify(invoices.body)).not.toContain(CANARY_PASSWORD);
  });

  it("names the three identities of a shared mailbox, and the XOAUTH2 user of each purpose", async () => {
    const answer = await call("GET", "/mailboxes/{id}", { id: box.shared.id, key: keys.tenantB });
    expect(answer.body).toMatchObject({
      login: box.shared.login,
      mailbox: box.shared.mailboxAddress,
      send_as: "desk@contoso.com",
      sign_in_method: "password",
    });
    const list = await call("GET", "/mailboxes", { key: keys.tenantB });
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ id: box.shared.id, mailbox: box.shared.mailboxAddress, send_as: "desk@contoso.com" }),
    );
    const token = (purpose: string) =>
      call("POST", "/mailboxes/{id}/token", {
        id: box.shared.id,
        key: keys.tenantB,
        body: JSON.stringify({ purpose }),
      });
    // SMTP signs in as the Login; IMAP opens the shared mailbox with the Login's token.
    expect((await token("smtp")).body).toMatchObject({
      xoauth2_user: box.shared.login,
      mailbox: box.shared.mailboxAddress,
    });
    expect((await token("imap")).body).toMatchObject({
      xoauth2_user: box.shared.mailboxAddress,
      mailbox: box.shared.mailboxAddress,
    });
    // Another tenant's key does not learn of it.
    expect((await call("GET", "/mailboxes/{id}", { id: box.shared.id, key: keys.full })).status).toBe(404);
  });

  it.each(["999999", "abc", "0", "-1", "1e3", "99999999999999999999"])("answers 404 for the id %s", async (id) => {
    expect((await call("GET", "/mailboxes/{id}", { id, key: keys.full })).status).toBe(404);
  });
});

describe("POST /mailboxes/{id}/token", () => {
  it("gives a token, then the same one from the cache with no request to Microsoft, audited once", async () => {
    const auditsBefore = (await db.select().from(auditLog).where(eq(auditLog.action, "mailbox.token"))).length;
    const first = await call("POST", "/mailboxes/{id}/token", { id: box.invoices.id, key: keys.full });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: "Bearer", xoauth2_user: invoicesUser.upn });
    // The scope is what the token itself says it may do.
    const claims = JSON.parse(Buffer.from(first.body.access_token.split(".")[1], "base64url").toString("utf8"));
    expect(first.body.scope).toBe(claims.scp);
    expect(first.body.scope.split(" ").sort()).toEqual(["IMAP.AccessAsUser.All", "SMTP.Send"]);
    expect(first.body).not.toHaveProperty("refresh_token");
    expect(first.headers.get("cache-control")).toContain("no-store");
    // The same security headers as every other answer of the portal.
    expect(first.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    expect(first.headers.get("x-frame-options")).toBe("DENY");
    expect(first.headers.get("permissions-policy")).toContain("camera=()");
    const requests = rig.entra.tokenRequests();
    for (let i = 0; i < 3; i++) {
      const again = await call("POST", "/mailboxes/{id}/token", { id: box.invoices.id, key: keys.full, body: "{}" });
      expect(again.body.access_token).toBe(first.body.access_token);
    }
    expect(rig.entra.tokenRequests()).toBe(requests);
    // A request for one purpose says what the token it gets can really do, whatever was asked.
    const smtp = await call("POST", "/mailboxes/{id}/token", {
      id: box.invoices.id,
      key: keys.full,
      body: '{"purpose":"smtp"}',
    });
    const smtpClaims = JSON.parse(Buffer.from(smtp.body.access_token.split(".")[1], "base64url").toString("utf8"));
    expect(smtp.body.scope).toBe(smtpClaims.scp);
    expect(smtp.body.scope).toContain("SMTP.Send");
    const audits = await db.select().from(auditLog).where(eq(auditLog.action, "mailbox.token"));
    expect(audits.length).toBe(auditsBefore + 1);
    expect(audits.at(-1)!.actorEmail).toMatch(/^API key ERP \(nvm_[0-9a-f]{12}\)$/);
  });

  it("gives an app-only token for the mailbox itself", async () => {
    const answer = await call("POST", "/mailboxes/{id}/token", { id: box.notify.id, key: keys.limited });
    const claims = JSON.parse(Buffer.from(answer.body.access_token.split(".")[1], "base64url").toString("utf8"));
    expect(answer.body.scope).toBe(claims.roles.join(" "));
    expect(answer.body.scope).toContain("SMTP.SendAsApp");
    expect(answer.body.xoauth2_user).toBe(box.notify.login);
  });

  it("refuses a key limited to SMTP the other purpose, and a token that also carries IMAP (403, naming it)", async () => {
    const other = await call("POST", "/mailboxes/{id}/token", {
      id: box.invoices.id,
      key: keys.smtpOnly,
      body: JSON.stringify({ purpose: "imap" }),
    });
    expect(other.status).toBe(403);
    expect(other.headers.get("content-type")).toContain("application/problem+json");
    // The mailbox's token (cached by a key for both) carries IMAP too: never handed to the SMTP-only key.
    expect((await call("POST", "/mailboxes/{id}/token", { id: box.invoices.id, key: keys.full })).status).toBe(200);
    const broader = await call("POST", "/mailboxes/{id}/token", { id: box.invoices.id, key: keys.smtpOnly });
    expect(broader.status).toBe(403);
    expect(broader.body.detail).toContain("IMAP.AccessAsUser.All");
    expect(JSON.stringify(broader.body)).not.toMatch(/eyJ[\w-]{10,}\./);
  });

  it("refuses a purpose the Type does not have (422), and bad bodies with the field named", async () => {
    const imap = await call("POST", "/mailboxes/{id}/token", {
      id: box.notify.id,
      key: keys.full,
      body: '{"purpose":"imap"}',
    });
    expect(imap.status).toBe(422);
    const cases: [string, Record<string, string>, number, string?][] = [
      ['{"purpose":"smtp","refresh":true}', {}, 400, "refresh"],
      ['{"purpose":"pop3"}', {}, 400, "purpose"],
      ["{not json", {}, 400],
      ["[]", {}, 400, "(body)"],
      ['{"purpose":"smtp"}', { "content-type": "text/plain" }, 415],
      [JSON.stringify({ purpose: "smtp", pad: "x".repeat(100_000) }), {}, 413],
    ];
    for (const [body, headers, status, field] of cases) {
      const answer = await call("POST", "/mailboxes/{id}/token", {
        id: box.invoices.id,
        key: keys.full,
        body,
        headers,
      });
      expect(answer.status, body.slice(0, 40)).toBe(status);
      if (field) expect(Object.keys(answer.body.errors)).toContain(field);
    }
  });

  it("answers the next request on the same connection after refusing an oversized body", async () => {
    const big = JSON.stringify({ purpose: "smtp", pad: "x".repeat(200_000) });
    for (let i = 0; i < 10; i++) {
      const refused = await call("POST", "/mailboxes/{id}/token", { id: box.invoices.id, key: keys.full, body: big });
      expect(refused.status).toBe(413);
      const next = await call("GET", "/mailboxes/{id}", { id: box.invoices.id, key: keys.full });
      expect(next.status).toBe(200);
    }
  });

  it("says why Microsoft refused (502 with the code), then cools down instead of locking the account", async () => {
    const before = rig.entra.tokenRequests("password");
    const refused = await call("POST", "/mailboxes/{id}/token", { id: box.broken.id, key: keys.full });
    expect(refused.status).toBe(502);
    expect(refused.body.code).toBe("AADSTS50126");
    const again = await call("POST", "/mailboxes/{id}/token", { id: box.broken.id, key: keys.full });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(60);
    expect(rig.entra.tokenRequests("password")).toBe(before + 1);
  });
});

describe("the token endpoint in a loop", () => {
  it("200 refused calls cost one request to Microsoft, one history row and one audit row per change, then 429", async () => {
    // Microsoft sign-in that nobody ever completed: every token request is refused.
    box.unsigned = await createMailbox(
      db,
      root,
      saveMailboxSchema.parse({
        tenantId: String(box.invoices.tenantId),
        ...rig.mailboxForm({ ...rig.addUser(), password: "" }, { name: "Unsigned" }),
        signInMethod: "device",
      }),
    );
    const rows = async () => await db.select().from(mailboxTests).where(eq(mailboxTests.mailboxId, box.unsigned.id));
    const audits = async () =>
      await db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.targetType, "mailbox"),
            eq(auditLog.targetId, String(box.unsigned.id)),
            eq(auditLog.action, "mailbox.token"),
          ),
        );
    const entraBefore = rig.entra.tokenRequests();
    const ask = () => call("POST", "/mailboxes/{id}/token", { id: box.unsigned.id, key: keys.full });
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await ask());
    const code = answers[0]!.body.code;
    expect(code).toBeTruthy();
    expect(answers[0]!.headers.get("retry-after")).toBeNull();
    // Then the recorded refusal, saying when to ask again, without asking Microsoft or writing.
    for (const answer of answers)
      expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 502, code });
    for (const answer of answers.slice(1)) {
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(Number(answer.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    }
    expect(await rows()).toHaveLength(1);
    expect(await audits()).toHaveLength(1);

    // Saving the mailbox ends the cool-down: the next call asks again.
    const form = rig.mailboxForm({ upn: box.unsigned.login, password: "" }, { name: "Unsigned again" });
    const saved = (await db.select().from(mailboxes).where(eq(mailboxes.id, box.unsigned.id)))[0]!;
    await updateMailbox(db, root, {
      ...saveMailboxSchema.parse({ tenantId: String(saved.tenantId), ...form, signInMethod: "device" }),
      mailboxId: saved.id,
      version: saved.version,
    });
    const asked = await ask();
    expect(asked.status).toBe(502);
    expect(asked.headers.get("retry-after")).toBeNull();
    expect(await rows()).toHaveLength(2);

    // Past the mailbox's limit of refused requests a minute, 429 without looking any further.
    for (let i = 0; i < 189; i++) answers.push(await ask());
    const limit = TOKEN_LIMITS.expensivePerMailboxPerMinute;
    const statuses = [...answers.slice(0, 10), asked, ...answers.slice(10)].map((a) => a.status);
    expect(statuses).toEqual([...Array(limit).fill(502), ...Array(200 - limit).fill(429)]);
    for (const answer of answers.slice(10).filter((a) => a.status === 429)) {
      expect(answer.body.type).toMatch(/rate_limited$/);
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(rig.entra.tokenRequests() - entraBefore).toBeLessThanOrEqual(2);
    expect(await rows()).toHaveLength(2);
    expect(await audits()).toHaveLength(2);
  });
});

describe("POST /mailboxes/{id}/tests", () => {
  it("runs the button's test and answers like npm run check --json", async () => {
    const answer = await call("POST", "/mailboxes/{id}/tests", { id: box.notify.id, key: keys.limited });
    expect(answer.body).toMatchObject({
      mailbox: { id: box.notify.id, name: "Notify", tenant: "alpha" },
      ok: true,
      testId: expect.any(Number),
    });
    expect(answer.body.steps.map((s: { name: string }) => s.name)).toEqual([
      "settings",
      "network",
      "token",
      "claims",
      "smtp",
    ]);
  });

  it("streams each step as a line with Accept: application/x-ndjson", async () => {
    const answer = await call("POST", "/mailboxes/{id}/tests", {
      id: box.invoices.id,
      key: keys.full,
      headers: { accept: "application/x-ndjson" },
    });
    const types = (answer.body as { type: string }[]).map((e) => e.type);
    expect(types[0]).toBe("plan");
    expect(types.filter((t) => t === "step")).toHaveLength(6);
    expect(types.at(-1)).toBe("done");
  });
});

describe("Connect your business system (the README's example)", () => {
  it("gets a token from the API, sends through SMTP, and the message arrives over IMAP", async () => {
    const example = readmeExample("send-with-navigator.mjs", "js");
    expect(example).toContain("nodemailer");
    const dir = fs.mkdtempSync(path.join(process.cwd(), "node_modules", ".navigator-example-"));
    const file = path.join(dir, "send-with-navigator.mjs");
    fs.writeFileSync(file, example);
    const subject = `README example ${Date.now()}`;
    const run = await runToEnd(process.execPath, [file], {
      NAVIGATOR_URL: portal.url,
      NAVIGATOR_API_KEY: keys.full,
      MAILBOX_ID: String(box.invoices.id),
      SUBJECT: subject,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(run.status, run.output).toBe(0);

    const token = await call("POST", "/mailboxes/{id}/token", {
      id: box.invoices.id,
      key: keys.full,
      body: '{"purpose":"imap"}',
    });
    const client = new ImapFlow({
      host: rig.ip,
      port: 993,
      secure: true,
      auth: { user: token.body.xoauth2_user, accessToken: token.body.access_token },
      logger: false,
    });
    await client.connect();
    try {
      await client.mailboxOpen("INBOX");
      await expect.poll(async () => (await client.search({ subject })) || [], { timeout: 10_000 }).toHaveLength(1);
    } finally {
      await client.logout();
    }
  });
});

describe("secrets", () => {
  it("never puts a password, client secret or refresh token into an answer, the log or the audit log", async () => {
    const cache = (await db.select({ cache_sealed: tokenCaches.cacheSealed }).from(tokenCaches)) as {
      cache_sealed: string;
    }[];
    expect(cache.length).toBeGreaterThan(0);
    const everything = [
      portal.output(),
      JSON.stringify(await db.select().from(auditLog)),
      JSON.stringify((await call("GET", "/mailboxes", { key: keys.full })).body),
    ].join("\n");
    for (const secret of [CANARY_PASSWORD, APP_SECRET, keys.full, "refresh_token", "RefreshToken"]) {
      expect(everything.includes(secret), secret).toBe(false);
    }
  });
});

describe("API keys on the tenant page (Chromium)", () => {
  it("creates a key shown once, lists it without its secret, and revokes it", { timeout: 60_000 }, async () => {
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
      const page = await context.newPage();
      await signInWith(page, portal.url, "a@alpha.example", "an admin password 1");
      await page.waitForURL((u) => !u.pathname.startsWith("/signin"), { timeout: 10_000 });
      await page.goto(`${portal.url}/tenants/alpha/api-keys`);
      const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Create API key" }) });
      // Nothing chosen: each field says what is missing, and what was typed stays.
      await form.getByLabel("Name").fill("Warehouse");
      await form.getByRole("button", { name: "Create API key" }).click();
      await expect
        .poll(() => form.locator(".field-error, [role=alert]").allTextContents())
        .toContain("Choose at least one permission.");
      expect(await form.getByLabel("Name").inputValue()).toBe("Warehouse");

      // The tenant has an app-only mailbox: the form says how far an app's token reaches.
      expect(await form.locator("[data-app-only-reach]").textContent()).toContain("Notify signs in as the app");
      await form.getByRole("checkbox", { name: /tokens:issue/ }).check();
      await form.getByLabel("Only these mailboxes").selectOption([String(box.invoices.id)]);
      await form.getByRole("button", { name: "Create API key" }).click();
      const revealed = form.locator("[data-reveal]");
      await revealed.waitFor();
      const key = (await revealed.textContent()) ?? "";
      expect(key).toMatch(/^nvm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      await form.getByRole("button", { name: "Copy" }).click();
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(key);
      await screenshot(page, "api-key-created");

      const token = await fetch(url(`/mailboxes/${box.invoices.id}/token`), {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
      });
      expect(token.status).toBe(200);

      await page.reload();
      expect(await page.content()).not.toContain(key.slice(17));
      const row = page.locator(`tr[data-key="${key.slice(0, 16)}"]`);
      expect(await row.textContent()).toContain("Invoices");
      expect(await row.textContent()).toContain("tokens:issue");
      await row.getByRole("button", { name: "Revoke" }).click();
      await expect.poll(() => row.textContent()).toContain("revoked");
      const refused = await fetch(url(`/mailboxes/${box.invoices.id}/token`), {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
      });
      expect(refused.status).toBe(401);
      const audit = (await db.select().from(auditLog)).filter((a) => a.targetType === "api_key");
      expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["api_key.create", "api_key.revoke"]));
      expect(JSON.stringify(audit)).not.toContain(key.slice(17));
    } finally {
      await browser.close();
    }
  });
});
