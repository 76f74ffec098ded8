// Server time to render a tenant's mailbox list (200 mailboxes) and the mailbox form, measured over
// loopback against the production build. Run: npm run bench:mailboxes
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { startPortal, signInOverHttp } from "../tests/support/portal";

const MAILBOXES = 200;
const WARMUP = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 60);

const secrets = { AUTH_SECRET: randomBytes(32).toString("base64"), SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}` };
const portal = await startPortal(secrets);
try {
  Object.assign(process.env, secrets, { DATABASE_URL: `file:${portal.dataDir}/navigator-mail.db` });
  const { getDb } = await import("@/db/client");
  const { createTenant } = await import("@/lib/tenants/queries");
  const { createMailbox } = await import("@/lib/mailbox/save");
  const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
  const db = getDb();
  const root = { id: 1, email: portal.admin.email, name: "Administrator", role: "super_admin" as const, tenantId: null };
  const tenant = createTenant(db, root, { name: "Bench", slug: "bench" });
  let lastId = 0;
  for (let i = 0; i < MAILBOXES; i++) {
    const input = saveMailboxSchema.parse({
      tenantId: String(tenant.id), name: `Mailbox ${String(i).padStart(3, "0")}`, type: "smtp_imap", login: `box${i}@contoso.com`, password: `pw-${i}-long-enough`,
      smtpHost: "smtp.office365.com", smtpPort: "587", imapHost: "outlook.office365.com", imapPort: "993", useTls: "on",
      azureClientId: "1b2c3d4e-0000-4000-8000-123456789abc", azureTenantId: "contoso.onmicrosoft.com", cloud: "global",
    });
    lastId = createMailbox(db, root, input).id;
  }
  const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
  const list = await measure(`${portal.url}/tenants/bench`, cookie, "Mailbox 199");
  const form = await measure(`${portal.url}/tenants/bench/mailboxes/${lastId}`, cookie, "Azure Application TenantID");
  console.log(`mailbox list (${MAILBOXES} mailboxes): median ${list.median.toFixed(1)} ms, p90 ${list.p90.toFixed(1)} ms over ${RUNS} requests`);
  console.log(`mailbox form:                 median ${form.median.toFixed(1)} ms, p90 ${form.p90.toFixed(1)} ms over ${RUNS} requests`);
} finally {
  await portal.stop();
}

async function measure(url: string, cookie: string, mustContain: string) {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers: { cookie } });
    const body = await response.text();
    const elapsed = performance.now() - started;
    if (response.status !== 200 || !body.includes(mustContain)) throw new Error(`${url} answered ${response.status} without "${mustContain}"`);
    if (i >= WARMUP) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]! };
}
