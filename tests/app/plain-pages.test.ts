import { gunzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxes, users } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { createUser } from "@/lib/users/queries";
import { appDb, PASSWORD, seedWorld, type World } from "../support/db";
import { mailboxForm, mailboxInput } from "../support/mailbox";
import { sessionCookie, signInAs } from "../support/session";

// The plain pages as the production server answers them (scripts/serve.mjs hands the request to
// routePlainPage), against the real database and real next-auth session cookies. next/* are the
// stand-ins the production bundle gets (scripts/build-if-needed.ts).
vi.mock("next/headers", () => import("@/app/_plain/server/next-headers"));
vi.mock("next/navigation", () => import("@/app/_plain/server/next-navigation"));
vi.mock("next/cache", () => import("@/app/_plain/server/next-cache"));

const { routePlainPage, isPlainRoute } = await import("@/app/_plain/router");
const { ISLANDS } = await import("@/app/_plain/island-registry");

let db: Db;
let world: World;

beforeAll(async () => {
  db = appDb();
  world = await seedWorld(db);
  createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Alpha invoices", login: "inv@alpha.example" }));
  createMailbox(db, world.root, mailboxInput(world.tenantB.id, { name: "Beta orders", login: "orders@beta.example" }));
});

async function cookieOf(user: Pick<UserActor, "id" | "email" | "name"> | null, signedInAt?: number) {
  await signInAs(user, { signedInAt });
  return sessionCookie.value ? `next-auth.session-token=${sessionCookie.value}` : "";
}

async function open(path: string, init: RequestInit = {}): Promise<Response> {
  const answer = routePlainPage(new Request(`http://portal.test${path}`, init));
  if (!answer) throw new Error(`${path} is not a plain page`);
  return answer;
}

async function standIn(flag: "disabled" | "mustChangePassword") {
  const user = await createUser(db, world.root, {
    email: `${flag.toLowerCase()}@alpha.example`,
    name: flag,
    role: "tenant_admin",
    tenantId: world.tenantA.id,
    password: PASSWORD,
  });
  db.update(users)
    .set({ [flag]: true })
    .where(eq(users.id, user.id))
    .run();
  return user;
}

describe("the status overview as plain HTML", () => {
  it("has no script at all, a policy that lets none run, and the nonce on its one stylesheet", async () => {
    const answer = await open("/status", { headers: { cookie: await cookieOf(world.root) } });
    const html = await answer.text();
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en">/);
    expect(html).toContain("<title>Status · Navigator Mail</title>");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const policy = answer.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'none'");
    expect(policy).not.toContain("unsafe-inline");
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce).toMatch(/^[A-Za-z0-9+/=]{16,}$/);
    expect(html.match(/<style[^>]*>/g)).toEqual([`<style nonce="${nonce}">`]);
    expect(answer.headers.get("x-frame-options")).toBe("DENY");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    expect(answer.headers.get("permissions-policy")).toContain("camera=()");
    expect(answer.headers.get("cache-control")).toContain("no-store");
    // A fresh nonce each time.
    const again = await open("/status", { headers: { cookie: await cookieOf(world.root) } });
    expect(again.headers.get("content-security-policy")).not.toContain(nonce);
  });

  it("shows the portal's frame and every mailbox the super-admin may see, with its tenant", async () => {
    const html = await (await open("/status", { headers: { cookie: await cookieOf(world.root) } })).text();
    expect(html).toContain('<nav aria-label="Main">');
    expect(html).toContain("root@example.com");
    expect(html).not.toContain("csrfToken");
    expect(html).toMatch(/<a href="\/tenants\/alpha\/mailboxes\/\d+">Alpha invoices<\/a>.*?<td>Alpha<\/td>/);
    expect(html).toMatch(/<a href="\/tenants\/beta\/mailboxes\/\d+">Beta orders<\/a>.*?<td>Beta<\/td>/);
    expect(html).toMatch(
      /<img class="timeline" src="data:image\/svg\+xml,[^"]+" width="240" height="24" alt="Tested on 0 of the last 30 days/,
    );
  });

  it("signs out with next-auth's CSRF token, read from its percent-encoded cookie", async () => {
    const cookie = `${await cookieOf(world.root)}; next-auth.csrf-token=4f1c0ffee%7Cdigest`;
    const html = await (await open("/status", { headers: { cookie } })).text();
    expect(html).toMatch(/<form [^>]*action="\/api\/auth\/signout" method="post">/);
    expect(html).toContain('<input type="hidden" name="csrfToken" value="4f1c0ffee"/>');
  });

  it("keeps a tenant admin to their own tenant, in the rows and in the counts", async () => {
    const html = await (await open("/status", { headers: { cookie: await cookieOf(world.adminA) } })).text();
    expect(html).toContain("Alpha invoices");
    expect(html).not.toContain("Beta orders");
    expect(html).not.toContain("orders@beta.example");
    expect(html).toMatch(/All <span class="count">1<\/span>/);
    expect(html).toContain("My tenant");
  });

  it("sends a visitor without a valid session to sign-in, and one who must change the password to Account", async () => {
    const cases: [string, string][] = [
      ["", "/signin"],
      ["next-auth.session-token=forged.jwt.value", "/signin"],
      [await cookieOf(world.adminA, Date.now() - 8 * 3600 * 1000 - 1000), "/signin"],
      [await cookieOf(await standIn("disabled")), "/signin"],
      [await cookieOf(await standIn("mustChangePassword")), "/account?change=required"],
    ];
    for (const [cookie, where] of cases) {
      const answer = await open("/status", { headers: { cookie } });
      expect(answer.status, cookie).toBe(307);
      expect(answer.headers.get("location"), cookie).toBe(where);
      expect(await answer.text(), cookie).toBe("");
    }
  });

  it("prints what a mailbox's name or login holds as text, never as markup", async () => {
    createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantA.id, { name: '<img src=x onerror="alert(1)">', login: "x@alpha.example" }),
    );
    const html = await (
      await open("/status?q=x%40alpha", { headers: { cookie: await cookieOf(world.adminA) } })
    ).text();
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).not.toContain("<img src=x");
  });

  it("takes the filter, search and page from the address, as the App Router page does", async () => {
    const cookie = await cookieOf(world.root);
    const failing = await (await open("/status?state=failing", { headers: { cookie } })).text();
    expect(failing).toMatch(/<a aria-current="page" data-state="failing" href="\/status\?state=failing">/);
    expect(failing.replaceAll("<!-- -->", "")).toContain("No mailboxes match.");
    const search = await (await open("/status?q=orders&state=nonsense", { headers: { cookie } })).text();
    expect(search).toContain("Beta orders");
    expect(search).not.toContain("Alpha invoices");
    expect(search).toMatch(/<input id="status-search"[^>]* name="q" value="orders"/);
    const long = await (await open(`/status?q=${"a".repeat(5000)}`, { headers: { cookie } })).text();
    expect(long).toContain(`value="${"a".repeat(100)}"`);
    expect(long).not.toContain("a".repeat(101));
  });

  it("gzips when the browser asks, and answers HEAD with the headers only", async () => {
    const cookie = await cookieOf(world.root);
    const zipped = await open("/status", { headers: { cookie, "accept-encoding": "gzip, deflate, br" } });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    const body = gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString();
    expect(body).toContain("Alpha invoices");
    expect(Number(zipped.headers.get("content-length"))).toBeLessThan(body.length / 3);
    const head = await open("/status", { method: "HEAD", headers: { cookie } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-security-policy")).toContain("script-src 'none'");
    expect(await head.text()).toBe("");
  });

  it("leaves to Next.js what is not a browser opening a plain page", () => {
    expect(isPlainRoute("GET", "/status", false)).toBe(true);
    expect(isPlainRoute("HEAD", "/tenants/alpha/mailboxes/12", false)).toBe(true);
    expect(isPlainRoute("POST", "/api/form-actions/saveMailbox", false)).toBe(true);
    // The App Router's navigation and server actions to the same addresses, and its other pages.
    expect(isPlainRoute("GET", "/status", true)).toBe(false);
    expect(isPlainRoute("POST", "/tenants/alpha/mailboxes/12", false)).toBe(false);
    expect(isPlainRoute("GET", "/tenants/alpha/mailboxes/new", false)).toBe(false);
    expect(isPlainRoute("GET", "/tenants/alpha/mailboxes/12/tests", false)).toBe(false);
    expect(isPlainRoute("GET", "/status/1", false)).toBe(false);
    expect(isPlainRoute("GET", "/tenants", false)).toBe(false);
    const request = (path: string, init: RequestInit = {}) => new Request(`http://portal.test${path}`, init);
    expect(routePlainPage(request("/status", { headers: { rsc: "1" } }))).toBeNull();
    expect(routePlainPage(request("/status", { method: "POST", body: "x" }))).toBeNull();
    expect(routePlainPage(request("/tenants/alpha/mailboxes/new"))).toBeNull();
  });
});

describe("the mailbox page as plain HTML with islands", () => {
  let own: Mailbox;
  let other: Mailbox;
  beforeAll(() => {
    own = createMailbox(
      db,
      world.root,
      mailboxInput(world.tenantA.id, { name: "Plain own", password: "s3cret-Passw0rd!" }),
    );
    other = createMailbox(db, world.root, mailboxInput(world.tenantB.id, { name: "Plain other" }));
  });

  it("loads one script, the islands', under the page's nonce, and hydrates only islands it knows", async () => {
    const answer = await open(`/tenants/alpha/mailboxes/${own.id}`, {
      headers: { cookie: await cookieOf(world.adminA) },
    });
    const html = await answer.text();
    expect(answer.status).toBe(200);
    const nonce = /'nonce-([^']+)'/.exec(answer.headers.get("content-security-policy") ?? "")?.[1];
    expect(answer.headers.get("content-security-policy")).toContain(
      `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    );
    expect(html.match(/<script[^>]*>/g)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^<script type="module" src="/_next/static/navigator/islands\\.js\\?v=[^"]+" nonce="${nonce?.replace(/[+/=]/g, "\\$&")}">$`,
        ),
      ),
    ]);
    const names = [...html.matchAll(/data-island="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(["TestPanel", "MailboxForm", "AppCertificate", "DeleteMailbox"]);
    for (const name of names) expect(Object.keys(ISLANDS)).toContain(name);
    // The server actions travel by name; the password does not travel at all.
    expect(html).toContain("&quot;action&quot;:&quot;saveMailbox&quot;");
    expect(html).not.toContain("s3cret-Passw0rd!");
    // Sent before the script has run, a form still posts to its action, never into the address.
    expect(html).toMatch(
      /<form id="mailbox-settings"[^>]* action="\/api\/form-actions\/saveMailbox"[^>]* method="post">/,
    );
  });

  it("answers another tenant's or a missing mailbox with the Not found page, and a visitor without a session with sign-in", async () => {
    const cookie = await cookieOf(world.adminA);
    for (const path of [
      `/tenants/beta/mailboxes/${other.id}`,
      `/tenants/alpha/mailboxes/${other.id}`,
      "/tenants/alpha/mailboxes/999999",
    ]) {
      const answer = await open(path, { headers: { cookie } });
      const html = await answer.text();
      expect(answer.status, path).toBe(404);
      expect(html).toContain("<h1>Not found</h1>");
      expect(html.match(/<main/g)).toHaveLength(1);
      expect(html).not.toContain("Plain other");
      expect(html).not.toMatch(/<script/);
    }
    const anonymous = await open(`/tenants/alpha/mailboxes/${own.id}`);
    expect(anonymous.status).toBe(307);
    expect(anonymous.headers.get("location")).toBe("/signin");
  });
});

type FormAnswer = {
  redirect?: string;
  error?: string;
  result?: { ok: boolean; message?: string; fieldErrors?: Record<string, string[]>; values?: Record<string, string> };
};

describe("form actions posted by islands", () => {
  const ORIGIN = "http://portal.test";
  async function post(
    name: string,
    fields: Record<string, string>,
    init: { cookie?: string; origin?: string | null } = {},
  ) {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    const headers: Record<string, string> = { cookie: init.cookie ?? "", host: "portal.test" };
    if (init.origin !== null) headers.origin = init.origin ?? ORIGIN;
    const answer = await open(`/api/form-actions/${name}`, { method: "POST", body: form, headers });
    return { status: answer.status, body: (await answer.json()) as FormAnswer };
  }
  const row = (id: number) => db.select().from(mailboxes).where(eq(mailboxes.id, id)).get()!;
  let box: Mailbox;
  let theirs: Mailbox;
  beforeAll(() => {
    box = createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Form target" }));
    theirs = createMailbox(db, world.root, mailboxInput(world.tenantB.id, { name: "Not yours" }));
  });
  const saveFields = (target: Mailbox, overrides: Record<string, string> = {}) => ({
    ...mailboxForm({ name: target.name, login: target.login }),
    tenantId: String(target.tenantId),
    mailboxId: String(target.id),
    version: String(row(target.id).version),
    ...overrides,
  });

  it("saves through the App Router's own action and answers its result", async () => {
    const cookie = await cookieOf(world.adminA);
    const before = row(box.id).version;
    const saved = await post("saveMailbox", saveFields(box, { name: "Form target renamed" }), { cookie });
    expect(saved).toEqual({ status: 200, body: { result: { ok: true, message: "Saved Form target renamed." } } });
    expect(row(box.id)).toMatchObject({ name: "Form target renamed", version: before + 1 });
  });

  it("refuses a replayed save: the form's version is spent, and the row keeps the first save", async () => {
    const cookie = await cookieOf(world.adminA);
    const fields = saveFields(box, { name: "Form target once" });
    expect((await post("saveMailbox", fields, { cookie })).body.result?.ok).toBe(true);
    const after = row(box.id);
    const replayed = await post("saveMailbox", { ...fields, name: "Form target twice" }, { cookie });
    expect(replayed.body.result?.ok).toBe(false);
    expect(replayed.body.result).toMatchObject({ error: expect.stringContaining("reload to see the changes") });
    expect(row(box.id)).toEqual(after);
  });

  it("puts field errors beside the fields and never sends a password back", async () => {
    const cookie = await cookieOf(world.adminA);
    const before = row(box.id);
    const refused = await post("saveMailbox", saveFields(box, { smtpPort: "70000", password: "typed-Secret-1" }), {
      cookie,
    });
    expect(refused.status).toBe(200);
    expect(refused.body.result?.ok).toBe(false);
    expect(refused.body.result?.fieldErrors?.smtpPort).toHaveLength(1);
    expect(refused.body.result?.values?.smtpPort).toBe("70000");
    expect(JSON.stringify(refused.body)).not.toContain("typed-Secret-1");
    expect(row(box.id)).toEqual(before);
  });

  it("refuses a post from another site, or without an Origin, before reading it", async () => {
    const cookie = await cookieOf(world.adminA);
    const before = row(box.id);
    for (const origin of ["https://evil.example", "http://portal.test.evil.example", "null", "", null]) {
      const refused = await post("saveMailbox", saveFields(box, { name: "Hijacked" }), { cookie, origin });
      expect(refused.status, String(origin)).toBe(403);
    }
    expect(row(box.id)).toEqual(before);
  });

  it("takes a post from the portal's page behind an https proxy, by host or by the public address", async () => {
    const cookie = await cookieOf(world.adminA);
    // The proxy speaks https to the browser and http to the portal, with the Host kept.
    const kept = await post("saveMailbox", saveFields(box), { cookie, origin: "https://portal.test" });
    expect(kept.body.result?.ok).toBe(true);
    const publicAddress = process.env.NEXTAUTH_URL;
    process.env.NEXTAUTH_URL = "https://mail-settings.example.com";
    try {
      const viaPublic = await post("saveMailbox", saveFields(box), {
        cookie,
        origin: "https://mail-settings.example.com",
      });
      expect(viaPublic.body.result?.ok).toBe(true);
    } finally {
      if (publicAddress === undefined) delete process.env.NEXTAUTH_URL;
      else process.env.NEXTAUTH_URL = publicAddress;
    }
  });

  it("answers another tenant's mailbox as not found and leaves it alone", async () => {
    const cookie = await cookieOf(world.adminA);
    const before = row(theirs.id);
    const saved = await post("saveMailbox", saveFields(theirs, { name: "Taken over" }), { cookie });
    expect(saved.status).toBe(404);
    expect(saved.body.result?.ok).toBe(false);
    const deleted = await post(
      "deleteMailbox",
      { tenantId: String(theirs.tenantId), mailboxId: String(theirs.id) },
      { cookie },
    );
    expect(deleted.status).toBe(404);
    expect(row(theirs.id)).toEqual(before);
  });

  it("sends a caller without a session to sign-in, and follows an action's own redirect", async () => {
    const anonymous = await post("saveMailbox", saveFields(box, { name: "Anonymous" }));
    expect(anonymous).toEqual({ status: 200, body: { redirect: "/signin" } });
    const doomed = createMailbox(db, world.root, mailboxInput(world.tenantA.id, { name: "Doomed" }));
    const deleted = await post(
      "deleteMailbox",
      { tenantId: String(doomed.tenantId), mailboxId: String(doomed.id) },
      {
        cookie: await cookieOf(world.adminA),
      },
    );
    expect(deleted).toEqual({ status: 200, body: { redirect: "/tenants/alpha?deleted=Doomed" } });
    expect(db.select().from(mailboxes).where(eq(mailboxes.id, doomed.id)).get()).toBeUndefined();
  });

  it("refuses an unknown action, a GET, a body that is not a form and one over 1 MiB", async () => {
    const cookie = await cookieOf(world.adminA);
    expect((await post("createUser", {}, { cookie })).status).toBe(404);
    expect((await post("constructor", {}, { cookie })).status).toBe(404);
    const get = await open("/api/form-actions/saveMailbox", {
      headers: { cookie, origin: ORIGIN, host: "portal.test" },
    });
    expect(get.status).toBe(405);
    const json = await open("/api/form-actions/saveMailbox", {
      method: "POST",
      headers: { cookie, origin: ORIGIN, host: "portal.test", "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
    const big = await open("/api/form-actions/saveMailbox", {
      method: "POST",
      headers: { cookie, origin: ORIGIN, host: "portal.test", "content-type": "application/x-www-form-urlencoded" },
      body: `name=${"x".repeat(1024 * 1024 + 1)}`,
    });
    expect(big.status).toBe(413);
    // Streamed, without a length to refuse it by.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(100_000)));
        controller.close();
      },
    });
    const streamed = await open("/api/form-actions/saveMailbox", {
      method: "POST",
      headers: { cookie, origin: ORIGIN, host: "portal.test", "content-type": "application/x-www-form-urlencoded" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });
});
