import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { apiKeys, apiMessages, auditLog, type Mailbox } from "@/db/schema";
import { createApiKey } from "@/lib/api-keys/keys";
import { createApiKeySchema } from "@/lib/api-keys/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { MESSAGE_LIMITS } from "@/lib/service/api-messages";
import { createTenant } from "@/lib/tenants/queries";
import { createUser } from "@/lib/users/queries";
import { asActor, closeOpened } from "../support/db";
import { loadSpec } from "../support/openapi";
import type { Portal } from "../support/portal";
import { readmeExample, runToEnd } from "../support/readme";
import { type Rig, startRig } from "../support/rig/rig";
import { startRigPortal } from "../support/rig-portal";

// POST /api/v1/mailboxes/{id}/messages: a key that may only send, over each transport, attacked.
let rig: Rig;
let portal: Portal;
let db: Db;
let spec: Awaited<ReturnType<typeof loadSpec>>;
const box: Record<"smtp" | "graph" | "receiveOnly" | "broken" | "other", Mailbox> = {} as never;
const keys: Record<"sender" | "noSend" | "limited" | "tenantB" | "graphTokens" | "smtpTokens", string> = {} as never;
let tenantA = 0;

beforeAll(async () => {
  rig = await startRig();
  let root: UserActor;
  ({ portal, db, root } = await startRigPortal(rig, { MONITOR: "off" }));
  spec = await loadSpec(portal.url);
  tenantA = (await createTenant(db, root, { name: "Alpha", slug: "alpha" })).id;
  const tenantB = (await createTenant(db, root, { name: "Beta", slug: "beta" })).id;
  const save = (tenantId: number, form: Record<string, string>) =>
    createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenantId), ...form }));
  box.smtp = await save(tenantA, rig.mailboxForm(rig.addUser(), { name: "Invoices" }));
  box.graph = await save(tenantA, rig.mailboxForm(rig.addUser(), { name: "Graph", transport: "graph" }));
  box.receiveOnly = await save(tenantA, rig.mailboxForm(rig.addUser(), { name: "Inbox", type: "imap" }));
  box.broken = await save(
    tenantA,
    rig.mailboxForm({ ...rig.addUser(), password: "not-the-password" }, { name: "Broken" }),
  );
  box.other = await save(tenantB, rig.mailboxForm(rig.addUser(), { name: "Other" }));
  const admin = async (email: string, tenantId: number) =>
    asActor(
      await createUser(db, root, { email, name: email, role: "tenant_admin", tenantId, password: "an admin pw 12" }),
    );
  const adminA = await admin("a@alpha.example", tenantA);
  const adminB = await admin("b@beta.example", tenantB);
  const key = async (actor: UserActor, tenantId: number, fields: Record<string, unknown>) =>
    (await createApiKey(db, actor, createApiKeySchema.parse({ tenantId, ...fields }))).key;
  keys.sender = await key(adminA, tenantA, { name: "ERP", scopes: ["mail:send"] });
  keys.noSend = await key(adminA, tenantA, { name: "Tokens", scopes: ["mailboxes:read", "tokens:issue", "tests:run"] });
  keys.limited = await key(adminA, tenantA, { name: "Graph only", scopes: ["mail:send"], mailboxIds: [box.graph.id] });
  keys.tenantB = await key(adminB, tenantB, { name: "Beta ERP", scopes: ["mail:send"] });
  keys.graphTokens = await key(adminA, tenantA, {
    name: "Graph client",
    scopes: ["tokens:issue"],
    tokenPurpose: "graph",
  });
  keys.smtpTokens = await key(adminA, tenantA, { name: "SMTP client", scopes: ["tokens:issue"], tokenPurpose: "smtp" });
}, 180_000);

afterAll(async () => {
  if (db) await closeOpened(db);
  await portal?.stop();
  await rig?.stop();
});

type Answer = {
  status: number;
  body: Record<string, unknown> & { errors?: Record<string, string[]> };
  headers: Headers;
};

/** Sends through the API and checks the answer against the OpenAPI document before the test looks at it. */
async function send(
  mailboxId: number,
  message: unknown,
  options: { key?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${portal.url}/api/v1/mailboxes/${mailboxId}/messages`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${options.key ?? keys.sender}`,
      "content-type": "application/json",
      ...options.headers,
    },
    body: options.raw ?? JSON.stringify(message),
  });
  const copy = response.clone();
  const body = (await spec.check(response, "POST", "/mailboxes/{id}/messages")) as Answer["body"];
  return { status: copy.status, body, headers: copy.headers };
}

const inbox = (upn: string) => rig.dovecot.inboxMessages(upn);

const message = (to: string, extra: Record<string, unknown> = {}) => ({
  to: [to],
  subject: `Invoice ${Math.random().toString(36).slice(2)}`,
  text: "Please find the invoice attached.",
  ...extra,
});

describe("sending a message through the API", () => {
  it("runs the README's curl example as it is written: 202, and the message with its attachment arrives", async () => {
    const example = readmeExample("send-message.sh", "sh");
    expect(example).toContain("curl");
    const to = rig.addUser().upn;
    const run = await runToEnd("bash", ["-euo", "pipefail", "-c", example], {
      NAVIGATOR_URL: portal.url,
      NAVIGATOR_API_KEY: keys.sender,
      MAILBOX_ID: String(box.smtp.id),
      TO: to,
    });
    expect(run.status, run.output).toBe(0);
    const answer = JSON.parse(run.output) as { id: string; status: string; transport: string };
    expect(answer).toMatchObject({ status: "accepted", transport: "smtp_imap" });
    const [arrived] = inbox(to);
    expect(arrived).toContain(`Message-ID: ${answer.id}`);
    expect(arrived).toContain("X-Invoice-Number: 2026-0042");
    expect(arrived).toContain("filename=invoice.txt");
    expect(arrived).toContain(Buffer.from("Total: 42.00 EUR").toString("base64"));
  });

  it("sends over SMTP with cc, bcc, reply-to and HTML, and over Microsoft Graph, each arriving", async () => {
    const [to, cc, bcc] = [rig.addUser().upn, rig.addUser().upn, rig.addUser().upn];
    const smtp = await send(
      box.smtp.id,
      message(to, { cc: [cc], bcc: [bcc], reply_to: ["billing@contoso.com"], html: "<p>Hello</p>" }),
    );
    expect(smtp.status).toBe(202);
    for (const upn of [to, cc, bcc]) expect(inbox(upn)).toHaveLength(1);
    expect(inbox(to)[0]).toContain("Reply-To: billing@contoso.com");
    expect(inbox(to)[0]).not.toContain(bcc);

    const graphTo = rig.addUser().upn;
    const graph = await send(box.graph.id, message(graphTo, { headers: { "X-Order": "77" } }));
    expect(graph.status).toBe(202);
    expect(graph.body).toMatchObject({ transport: "graph", status: "accepted" });
    expect(rig.graphMail.sent.at(-1)).toMatchObject({ to: [graphTo], messageId: graph.body.id });
    expect(inbox(graphTo)[0]).toContain("X-Order: 77");
  });

  it("sends once per Idempotency-Key, answers the same, refuses the key with another request, and holds under a race", async () => {
    const to = rig.addUser().upn;
    const once = message(to);
    const key = `order-${Date.now()}`;
    const first = await send(box.smtp.id, once, { headers: { "idempotency-key": key } });
    const again = await send(box.smtp.id, once, { headers: { "idempotency-key": key } });
    expect(first.status).toBe(202);
    expect(again).toMatchObject({ status: 202, body: first.body });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(inbox(to)).toHaveLength(1);
    const other = await send(box.smtp.id, { ...once, subject: "Another" }, { headers: { "idempotency-key": key } });
    expect(other.status).toBe(422);
    expect(inbox(to)).toHaveLength(1);

    // Five requests with one new key at once: one message, and every answer is that message or "still sending".
    const raced = rig.addUser().upn;
    const racedKey = `race-${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        send(box.graph.id, message(raced, { subject: "Race" }), { headers: { "idempotency-key": racedKey } }),
      ),
    );
    expect(inbox(raced)).toHaveLength(1);
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(new Set(accepted.map((a) => a.body.id)).size).toBe(1);
    expect(answers.every((a) => a.status === 202 || a.status === 409)).toBe(true);

    // Another key (another business system) may use the same Idempotency-Key for its own message.
    const limited = await send(box.graph.id, message(raced, { subject: "Race" }), {
      key: keys.limited,
      headers: { "idempotency-key": racedKey },
    });
    expect(limited.status).toBe(202);
    expect(limited.body.id).not.toBe(accepted[0]!.body.id);
  });

  it("answers a refused send with its diagnosis, records it once, and replays the refusal for its key", async () => {
    const key = `broken-${Date.now()}`;
    const refused = await send(box.broken.id, message(rig.addUser().upn), { headers: { "idempotency-key": key } });
    expect(refused).toMatchObject({ status: 502, body: { code: "AADSTS50126" } });
    const before = rig.entra.requests.length;
    const replay = await send(box.broken.id, message(rig.addUser().upn), { headers: { "idempotency-key": key } });
    // Another request under the same key: refused, and Microsoft is not asked again.
    expect(replay.status).toBe(422);
    expect(rig.entra.requests.length).toBe(before);
    const receiveOnly = await send(box.receiveOnly.id, message(rig.addUser().upn));
    expect(receiveOnly.status).toBe(422);
  });

  it("audits each message without its subject or content", async () => {
    const secretSubject = `Salary review ${Date.now()}`;
    const sent = await send(
      box.smtp.id,
      message(rig.addUser().upn, { subject: secretSubject, text: "confidential body" }),
    );
    const entries = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "mailbox.message.send"), eq(auditLog.targetId, String(box.smtp.id))));
    const entry = entries.find((e) => JSON.stringify(e.changes).includes(String(sent.body.id)));
    expect(entry).toMatchObject({ actorEmail: expect.stringContaining("ERP") });
    expect(JSON.stringify(entry)).not.toContain(secretSubject);
    expect(JSON.stringify(entry)).not.toContain("confidential body");
  });
});

describe("a token for Microsoft Graph (purpose graph)", () => {
  const token = async (key: string, purpose: string) => {
    const response = await fetch(`${portal.url}/api/v1/mailboxes/${box.smtp.id}/token`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ purpose }),
    });
    const copy = response.clone();
    return {
      status: copy.status,
      body: (await spec.check(response, "POST", "/mailboxes/{id}/token")) as Record<string, string>,
    };
  };

  it("is for Graph with its mail permissions only, works there, and keeps to the key's purpose", async () => {
    const graph = await token(keys.noSend, "graph");
    expect(graph.status).toBe(200);
    const claims = JSON.parse(Buffer.from(graph.body.access_token!.split(".")[1]!, "base64url").toString("utf8"));
    expect(claims).toMatchObject({ aud: "https://graph.microsoft.com", scp: "Mail.Send Mail.ReadWrite" });
    expect(graph.body.scope).toBe("Mail.Send Mail.ReadWrite");
    const sent = await fetch(`${rig.entra.authorityHost}/v1.0/users/${encodeURIComponent(box.smtp.login)}/sendMail`, {
      method: "POST",
      headers: { authorization: `Bearer ${graph.body.access_token}`, "content-type": "application/json" },
      body: JSON.stringify({
        message: { subject: "With a Graph token", toRecipients: [{ emailAddress: { address: box.smtp.login } }] },
      }),
    });
    expect(sent.status).toBe(202);

    // A key limited to Graph gets Graph tokens only; a key limited to SMTP gets no Graph token.
    expect((await token(keys.graphTokens, "graph")).status).toBe(200);
    expect((await token(keys.graphTokens, "smtp")).status).toBe(403);
    expect((await token(keys.smtpTokens, "graph")).status).toBe(403);
  });
});

describe("what an attacker with a key would try", () => {
  it("a key without mail:send, another tenant's mailbox, a mailbox outside the key's list", async () => {
    expect((await send(box.smtp.id, message("x@contoso.com"), { key: keys.noSend })).status).toBe(403);
    expect((await send(box.other.id, message("x@contoso.com"))).status).toBe(404);
    expect((await send(box.smtp.id, message("x@contoso.com"), { key: keys.tenantB })).status).toBe(404);
    expect((await send(box.smtp.id, message("x@contoso.com"), { key: keys.limited })).status).toBe(404);
    expect((await send(box.smtp.id, message("x@contoso.com"), { key: "nvm_not-a-key" })).status).toBe(401);
  });

  it("header injection, a header that is not X-…, a path in a file name, broken base64, too many recipients", async () => {
    const to = rig.addUser().upn;
    const refused = async (extra: Record<string, unknown>, field: string) => {
      const answer = await send(box.smtp.id, message(to, extra));
      expect(answer.status).toBe(400);
      expect(Object.keys(answer.body.errors ?? {}).join(" ")).toContain(field);
    };
    await refused({ headers: { "X-Evil": "a\r\nBcc: victim@contoso.com" } }, "headers");
    await refused({ headers: { Bcc: "victim@contoso.com" } }, "headers");
    await refused({ subject: "Hi\r\nBcc: victim@contoso.com" }, "subject");
    await refused({ attachments: [{ filename: "../../etc/passwd", content_base64: "AA==" }] }, "attachments");
    await refused({ attachments: [{ filename: "a.txt", content_base64: "not base64!" }] }, "attachments");
    await refused({ to: Array.from({ length: 101 }, (_, i) => `r${i}@contoso.com`) }, "to");
    await refused({ from: "ceo@contoso.com" }, "from");
    expect(inbox(to)).toHaveLength(0);
    const badKey = await send(box.smtp.id, message(to), { headers: { "idempotency-key": "with space" } });
    expect(badKey.status).toBe(400);
  });

  it("an oversized body is refused with 413 before it is read to the end", async () => {
    const big = "A".repeat(3 * 1024 * 1024 + 1);
    const answer = await send(box.smtp.id, null, {
      raw: JSON.stringify(message("x@contoso.com", { attachments: [{ filename: "big.bin", content_base64: big }] })),
    });
    expect(answer.status).toBe(413);
  });

  it("a loop: the 31st message of a minute from one mailbox waits, whichever instance counts", async () => {
    // Thirty messages already recorded this minute (as another instance of the portal would have).
    const now = Date.now();
    const senderKeyId = (await db.select().from(apiKeys).where(eq(apiKeys.name, "ERP")))[0]!.id;
    await db.insert(apiMessages).values(
      Array.from({ length: MESSAGE_LIMITS.perMailboxPerMinute }, (_, i) => ({
        tenantId: tenantA,
        mailboxId: box.graph.id,
        apiKeyId: senderKeyId,
        idempotencyKey: null,
        requestHash: "earlier",
        messageId: `<earlier-${i}@contoso.com>`,
        status: "accepted" as const,
        createdAt: new Date(now - 30_000 + i),
      })),
    );
    const to = rig.addUser().upn;
    const limited = await send(box.graph.id, message(to));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(31);
    expect(inbox(to)).toHaveLength(0);
    // Another mailbox of the same key is not held back.
    expect((await send(box.smtp.id, message(to))).status).toBe(202);
  });
});
