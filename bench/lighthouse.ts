// Lighthouse (performance and accessibility) on the mailbox page of the production build, and the
// JavaScript that page loads first. Run: npm run bench:lighthouse   (CHROME_PATH defaults to /usr/bin/chromium)
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { startPortal, signInOverHttp } from "../tests/support/portal";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CHROME = process.env.CHROME_PATH ?? "/usr/bin/chromium";

const secrets = { AUTH_SECRET: randomBytes(32).toString("base64"), SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}` };
const portal = await startPortal(secrets);
const chrome = await chromeLauncher.launch({
  chromePath: CHROME,
  chromeFlags: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  Object.assign(process.env, secrets, { DATABASE_URL: `file:${portal.dataDir}/navigator-mail.db` });
  const { getDb } = await import("@/db/client");
  const { createTenant } = await import("@/lib/tenants/queries");
  const { createMailbox } = await import("@/lib/mailbox/save");
  const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
  const db = getDb();
  const root = { id: 1, email: portal.admin.email, name: "Administrator", role: "super_admin" as const, tenantId: null };
  const tenant = createTenant(db, root, { name: "Acme", slug: "acme" });
  const mailbox = createMailbox(db, root, saveMailboxSchema.parse({
    tenantId: String(tenant.id), name: "Invoices", type: "smtp_imap", login: "invoices@contoso.com", password: "a-password-long-enough",
    smtpHost: "smtp.office365.com", smtpPort: "587", imapHost: "outlook.office365.com", imapPort: "993", useTls: "on",
    azureClientId: "1b2c3d4e-0000-4000-8000-123456789abc", azureTenantId: "contoso.onmicrosoft.com", cloud: "global",
  }));
  const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
  const url = `${portal.url}/tenants/acme/mailboxes/${mailbox.id}`;

  const performance: number[] = [];
  const accessibility: number[] = [];
  const problems = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    const result = await lighthouse(url, { port: chrome.port, output: "json", logLevel: "error", onlyCategories: ["performance", "accessibility"], extraHeaders: { Cookie: cookie } });
    const lhr = result!.lhr;
    performance.push(Math.round((lhr.categories.performance?.score ?? 0) * 100));
    accessibility.push(Math.round((lhr.categories.accessibility?.score ?? 0) * 100));
    for (const ref of lhr.categories.accessibility?.auditRefs ?? []) {
      const audit = lhr.audits[ref.id];
      if (audit && audit.score !== null && audit.score < 1 && ref.weight > 0) problems.add(`${ref.id}: ${audit.title}`);
    }
  }

  const html = await (await fetch(url, { headers: { cookie } })).text();
  const scripts = [...new Set([...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!))];
  let raw = 0;
  let gzip = 0;
  for (const src of scripts) {
    const body = Buffer.from(await (await fetch(new URL(src, portal.url))).arrayBuffer());
    raw += body.length;
    gzip += gzipSync(body).length;
  }
  console.log(`Lighthouse ${RUNS} runs on the mailbox page (default mobile profile, simulated throttling):`);
  console.log(`  performance:   median ${median(performance)} (runs ${performance.join(", ")}; goal >= 90)`);
  console.log(`  accessibility: median ${median(accessibility)} (runs ${accessibility.join(", ")}; goal >= 95)`);
  if (problems.size) console.log(`  accessibility findings: ${[...problems].join("; ")}`);
  console.log(`first-load JS of the mailbox page: ${scripts.length} scripts, ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip`);
} finally {
  chrome.kill();
  await portal.stop();
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
