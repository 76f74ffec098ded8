import { gunzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { createUser } from "@/lib/users/queries";
import { appDb, PASSWORD, seedWorld, type World } from "../support/db";
import { mailboxInput } from "../support/mailbox";
import { sessionCookie, signInAs } from "../support/session";

// The plain HTML pages as the production server answers them (scripts/serve.mjs hands the request to
// routePlainPage), against the real database and real next-auth session cookies.
const { routePlainPage, PLAIN_PAGE_PATHS } = await import("@/app/_plain/router");

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
    expect([...PLAIN_PAGE_PATHS]).toEqual(["/status"]);
    const request = (path: string, init: RequestInit = {}) => new Request(`http://portal.test${path}`, init);
    expect(routePlainPage(request("/status", { headers: { rsc: "1" } }))).toBeNull();
    expect(routePlainPage(request("/status", { method: "POST", body: "x" }))).toBeNull();
    expect(routePlainPage(request("/status/1"))).toBeNull();
    expect(routePlainPage(request("/tenants"))).toBeNull();
  });
});
