import http from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, signInWith } from "../support/browser";
import { type Portal, signInOverHttp, startPortal } from "../support/portal";

let portal: Portal;
let httpsPortal: Portal;
let browser: Browser;

beforeAll(async () => {
  [portal, httpsPortal, browser] = await Promise.all([
    startPortal(),
    // Users reach this one through an https reverse proxy; the test talks to it directly.
    startPortal({ NEXTAUTH_URL: "https://mail-portal.example.com" }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([portal?.stop(), httpsPortal?.stop()]);
});

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** One HTTP request from a chosen loopback address, as a client on another machine would make it. */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? "GET", headers: options.headers, localAddress: options.from },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

/** A sign-in through next-auth's credentials endpoint; true when a session cookie came back. */
async function signInFrom(from: string, email: string, password: string, forwardedFor?: string): Promise<boolean> {
  const spoof: Record<string, string> = forwardedFor ? { "x-forwarded-for": forwardedFor } : {};
  const csrf = await request(`${portal.url}/api/auth/csrf`, { from, headers: spoof });
  const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
  const cookie = (csrf.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
  const answer = await request(`${portal.url}/api/auth/callback/credentials`, {
    method: "POST",
    from,
    headers: { ...spoof, cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken, email, password, json: "true" }).toString(),
  });
  return (answer.headers["set-cookie"] ?? []).some((c) => c.includes("next-auth.session-token="));
}

describe("security headers", () => {
  function expectPageHeaders(answer: Answer) {
    const csp = String(answer.headers["content-security-policy"]);
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}' 'strict-dynamic'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    // Only the development server's React needs eval.
    expect(csp).not.toContain("unsafe-eval");
    expect(answer.headers["permissions-policy"]).toContain("camera=()");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  }

  it("a page carries a nonce policy, a fresh nonce each time, and the nonce on Next's scripts", async () => {
    const first = await request(`${portal.url}/signin`);
    const second = await request(`${portal.url}/signin`);
    expectPageHeaders(first);
    const nonce = /'nonce-([^']+)'/.exec(String(first.headers["content-security-policy"]))![1]!;
    expect(String(second.headers["content-security-policy"])).not.toContain(nonce);
    expect(first.body).toContain(`nonce="${nonce}"`);
    expect(first.headers["strict-transport-security"]).toBeUndefined();
    // Sent before the page's script runs, the sign-in form must not put the password into the address.
    expect(first.body).toMatch(/<form\b[^>]*\bmethod="post"[^>]*>[\s\S]*name="password"/);
  });

  it("an error page and a server action answer carry the same headers", async () => {
    expectPageHeaders(await request(`${portal.url}/no-such-page`));
    const action = await request(`${portal.url}/account`, {
      method: "POST",
      headers: { "next-action": "0".repeat(42), "content-type": "text/plain;charset=UTF-8" },
      body: "[]",
    });
    expectPageHeaders(action);
  });

  it("an API answer may load nothing at all", async () => {
    const health = await request(`${portal.url}/api/health`);
    expect(health.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(health.headers["permissions-policy"]).toContain("geolocation=()");
  });

  it("HSTS is sent when users reach the portal over https", async () => {
    for (const path of ["/signin", "/api/health", "/no-such-page"]) {
      const answer = await request(`${httpsPortal.url}${path}`);
      expect([path, answer.headers["strict-transport-security"]]).toEqual([
        path,
        "max-age=63072000; includeSubDomains",
      ]);
    }
  });

  it("the portal works in Chromium under the policy, with no violation reported", async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await signInWith(page, portal.url, portal.admin.email, portal.admin.password);
    await page.waitForURL(`${portal.url}/tenants`);
    await page.getByLabel("Name").fill("Policy Check");
    await page.getByLabel("Slug").fill("policy-check");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await expect.poll(() => page.getByText("policy-check").count()).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    await page.close();
  });
});

describe("sign-in under a burst", () => {
  it("50 sign-ins at once keep /api/health answering within a second; beyond the queue they get 503 with Retry-After", async () => {
    const healthTimes: number[] = [];
    let burstOver = false;
    const probe = (async () => {
      while (!burstOver) {
        const started = performance.now();
        const health = await request(`${portal.url}/api/health`);
        expect(health.status).toBe(200);
        healthTimes.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const csrf = await request(`${portal.url}/api/auth/csrf`);
    const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
    const cookie = (csrf.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        request(`${portal.url}/api/auth/callback/credentials`, {
          method: "POST",
          headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            csrfToken,
            email: `nobody-${i}-${Math.random().toString(36).slice(2)}@example.com`,
            password: "not the password",
            json: "true",
          }).toString(),
        }),
      ),
    );
    burstOver = true;
    await probe;
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of busy) {
      expect(answer.headers["retry-after"]).toMatch(/^\d+$/);
      expect(JSON.parse(answer.body).error).toContain("Too many sign-ins at once");
    }
    // Everything else is next-auth's own answer to a wrong password, never a server error.
    expect(answers.filter((a) => a.status !== 503 && a.status >= 500)).toEqual([]);
    expect(healthTimes.length).toBeGreaterThan(2);
    expect(Math.max(...healthTimes)).toBeLessThan(1000);
  }, 60_000);
});

describe("sign-in limits over HTTP", () => {
  it("count the socket's address, whatever X-Forwarded-For a client sends", async () => {
    const email = portal.admin.email;
    for (let i = 0; i < 10; i++) {
      expect(await signInFrom("127.0.0.2", email, "wrong password", `198.51.100.${i}`)).toBe(false);
    }
    expect(await signInFrom("127.0.0.2", email, portal.admin.password, "203.0.113.250")).toBe(false);
    expect(await signInFrom("127.0.0.3", email, portal.admin.password)).toBe(true);
    expect(await signInOverHttp(portal.url, email, portal.admin.password)).toContain("next-auth.session-token=");
  });
});
