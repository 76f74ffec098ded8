// Server time of the list pages with 10,000 tenants and 20,000 mailboxes (three tests each, an admin
// per tenant, an alert per failing mailbox),
// against the production build. Run: npm run bench:lists
import { performance } from "node:perf_hooks";
import { startSeededPortal } from "./seeded-portal";
import { median } from "./stats";

const TENANTS = Number(process.env.BENCH_TENANTS ?? 10_000);
const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const { portal, cookie } = await startSeededPortal();
try {
  const { seedAtScale } = await import("./seed-at-scale");
  const seeded = seedAtScale(TENANTS, MAILBOXES);
  console.log(`seeded ${TENANTS} tenants, ${MAILBOXES} mailboxes and ${seeded.tests} tests in ${seeded.ms} ms`);
  const pages: [string, string][] = [
    ["status (all, worst first)", "/status"],
    ["status, failing only", "/status?state=failing"],
    ["status, search", "/status?q=box-1234"],
    ["status, page 200", "/status?page=200"],
    ["tenants", "/tenants"],
    ["tenants, search", "/tenants?q=tenant 12"],
    ["tenants, page 150", "/tenants?page=150"],
    ["users", "/users"],
    ["users, search", "/users?q=admin-777"],
    ["alerts", "/alerts"],
    ["alerts, search", "/alerts?q=box-1"],
    ["tenant page", `/tenants/${seeded.busiestSlug}`],
    ["test history of a mailbox", `/tenants/${seeded.busiestSlug}/mailboxes/${seeded.mailboxId}/tests`],
    ["test history, failures", `/tenants/${seeded.busiestSlug}/mailboxes/${seeded.mailboxId}/tests?outcome=failed`],
    ["sign-in migration, tenant", `/tenants/${seeded.busiestSlug}/migration`],
    ["sign-in migration, all", "/migration"],
  ];
  for (const [label, path] of pages) {
    const times: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const started = performance.now();
      const answer = await fetch(`${portal.url}${path}`, { headers: { cookie } });
      await answer.text();
      if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
      if (i >= 2) times.push(performance.now() - started);
    }
    console.log(`${label.padEnd(28)} median ${median(times).toFixed(0).padStart(5)} ms over ${RUNS} requests`);
  }
} finally {
  await portal.stop();
}
