// Server time to render a tenant's mailbox list (200 mailboxes) and the mailbox form, measured over
// loopback against the production build. Run: npm run bench:mailboxes
import { performance } from "node:perf_hooks";
import { startSeededPortal } from "./seeded-portal";

const MAILBOXES = 200;
const WARMUP = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 60);

const { portal, cookie, seed } = await startSeededPortal();
try {
  const { lastMailboxId } = await seed("bench", MAILBOXES);
  const list = await measure(`${portal.url}/tenants/bench`, "Mailbox 199");
  const form = await measure(`${portal.url}/tenants/bench/mailboxes/${lastMailboxId}`, "Azure Application TenantID");
  console.log(
    `mailbox list (${MAILBOXES} mailboxes): median ${list.median.toFixed(1)} ms, p90 ${list.p90.toFixed(1)} ms over ${RUNS} requests`,
  );
  console.log(
    `mailbox form:                 median ${form.median.toFixed(1)} ms, p90 ${form.p90.toFixed(1)} ms over ${RUNS} requests`,
  );
} finally {
  await portal.stop();
}

async function measure(url: string, mustContain: string) {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers: { cookie } });
    const body = await response.text();
    const elapsed = performance.now() - started;
    if (response.status !== 200 || !body.includes(mustContain))
      throw new Error(`${url} answered ${response.status} without "${mustContain}"`);
    if (i >= WARMUP) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]! };
}
