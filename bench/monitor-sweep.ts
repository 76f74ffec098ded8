// Monitoring at scale against the production build and its own scheduler, on the test rig:
//  - sweep: 1,000 mailboxes at concurrency 16, against 1000 / 16 × the median single test;
//  - memory: the server's RSS after each sweep of 1,000 tests;
//  - responsiveness: a mailbox page's p95 while a sweep runs, against the same page idle.
// Run: npm run bench:sweep   (BENCH_MAILBOXES, BENCH_SWEEPS to change the size)
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { withRig } from "./rig-process";
import { median } from "./stats";

const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 1000);
const SWEEPS = Number(process.env.BENCH_SWEEPS ?? 3);
const CONCURRENCY = 16;
const SINGLES = 9;

const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)]!;

await withRig(bench);

/** The largest resident set in the portal's process group (its server), in MiB. */
function serverRssMiB(group: number): number {
  let largest = 0;
  for (const pid of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== group) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      largest = Math.max(largest, Number(rss ?? 0) / 1024);
    } catch {
      // The process ended meanwhile.
    }
  }
  return largest;
}

async function bench(): Promise<void> {
  const { startRig } = await import("../tests/support/rig/rig");
  const rig = await startRig();
  // Microsoft's own latency: a token answer in about 150 ms, and Exchange Online's transport delivering
  // a message about a second and a half after it accepted it. Without it every test would be the rig's
  // CPU only, and 16 at once on two cores could not beat one at a time by much.
  rig.entra.delayMs = Number(process.env.BENCH_TOKEN_MS ?? 150);
  rig.smtp.deliveryDelayMs = Number(process.env.BENCH_DELIVERY_MS ?? 1500);
  Object.assign(process.env, {
    ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
  });
  const { startRigPortal } = await import("../tests/support/rig-portal");
  const { signInOverHttp } = await import("../tests/support/portal");
  const { portal, db, root } = await startRigPortal(rig, {
    MONITOR: "on",
    MONITOR_SCHEDULE: "*/2 * * * * *",
    MONITOR_CONCURRENCY: String(CONCURRENCY),
  });
  try {
    const { eq, like, sql } = await import("drizzle-orm");
    const { mailboxes, mailboxTests, tenants } = await import("@/db/schema");
    const { createTenant } = await import("@/lib/tenants/queries");
    const { createMailbox } = await import("@/lib/mailbox/save");
    const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
    const { startMailboxTest, testToEnd } = await import("@/lib/service/mailbox-tests");
    const { SYSTEM_ACTORS } = await import("@/lib/auth/actor");

    // Four mailboxes per tenant, as MAX_TESTS_PER_TENANT allows four at once; monitoring off until measured.
    const add = async (slug: string, count: number) => {
      const tenant = await createTenant(db, root, { name: slug, slug });
      await db.update(tenants).set({ monitorLight: "off", monitorFull: "off" }).where(eq(tenants.id, tenant.id));
      return await Promise.all(
        Array.from({ length: count }, (_, i) =>
          createMailbox(
            db,
            root,
            saveMailboxSchema.parse({
              tenantId: String(tenant.id),
              ...rig.mailboxForm(rig.addUser(), { name: `Box ${i}` }),
            }),
          ),
        ),
      );
    };
    const seeded = performance.now();
    for (let t = 0; t < MAILBOXES / 4; t++) await add(`sweep-${t}`, 4);
    const singles = await add("single", SINGLES);
    console.log(`seeded ${MAILBOXES} mailboxes in ${Math.round(performance.now() - seeded)} ms`);

    const singleTests = async () => {
      const times: number[] = [];
      for (const box of singles) {
        const started = performance.now();
        const test = await startMailboxTest(db, SYSTEM_ACTORS.cli, {
          tenantId: box.tenantId,
          mailboxId: box.id,
          source: "saved",
        });
        if (!test.ok) throw new Error(`single test refused: ${test.refusal.message}`);
        const result = await testToEnd(test, { id: box.id, name: box.name, tenant: "single" });
        if (!result.ok) throw new Error(`single test failed: ${JSON.stringify(result.steps.at(-1))}`);
        times.push(performance.now() - started);
      }
      return median(times);
    };

    const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
    const page = `${portal.url}/tenants/single/mailboxes/${singles[0]!.id}`;
    const timePage = async () => {
      const started = performance.now();
      const answer = await fetch(page, { headers: { cookie } });
      await answer.text();
      if (answer.status !== 200) throw new Error(`the mailbox page answered ${answer.status}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 5; i++) await timePage();
    const idle: number[] = [];
    for (let i = 0; i < 100; i++) idle.push(await timePage());

    const finishedSince = async (since: Date) =>
      (
        await db
          .select({
            n: sql<number>`count(*)`,
            first: sql<number>`min(started_at)`,
            last: sql<number>`max(finished_at)`,
          })
          .from(mailboxTests)
          .where(
            sql`${mailboxTests.triggeredBy} = 'scheduler' AND ${mailboxTests.startedAt} >= ${since.getTime()} AND ${mailboxTests.outcome} <> 'running'`,
          )
      )[0]!;
    const ratios: number[] = [];
    const rss: number[] = [];
    const during: number[] = [];
    for (let sweep = 1; sweep <= SWEEPS; sweep++) {
      const single = await singleTests();
      const since = new Date();
      if (sweep === 1) {
        await db.update(tenants).set({ monitorFull: "daily" }).where(like(tenants.slug, "sweep-%"));
      } else {
        // A day later: every full test is due again.
        await db
          .update(mailboxes)
          .set({ lastMonitorFullAt: new Date(Date.now() - 25 * 3_600_000) })
          .where(sql`${mailboxes.tenantId} IN (SELECT id FROM tenants WHERE slug LIKE 'sweep-%')`);
      }
      while ((await finishedSince(since)).n < MAILBOXES) during.push(await timePage());
      const done = await finishedSince(since);
      const sweepMs = done.last - done.first;
      const expected = (MAILBOXES / CONCURRENCY) * single;
      ratios.push(sweepMs / expected);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      rss.push(serverRssMiB(portal.pid));
      const failed = (
        await db
          .select({ n: sql<number>`count(*)` })
          .from(mailboxTests)
          .where(sql`${mailboxTests.startedAt} >= ${since.getTime()} AND ${mailboxTests.outcome} = 'failed'`)
      )[0]!.n;
      console.log(
        `sweep ${sweep}: ${MAILBOXES} tests (${failed} failed) in ${(sweepMs / 1000).toFixed(1)} s; ` +
          `median single test ${single.toFixed(0)} ms → ${MAILBOXES}/${CONCURRENCY} × single = ${(expected / 1000).toFixed(1)} s; ` +
          `ratio ${(sweepMs / expected).toFixed(2)}; server RSS ${rss.at(-1)!.toFixed(1)} MiB`,
      );
    }
    if (process.env.BENCH_DEBUG)
      console.log(
        portal
          .output()
          .split("\n")
          .filter((l) => l.startsWith("monitor"))
          .join("\n"),
      );
    console.log(`sweep ratio: median ${median(ratios).toFixed(2)} (limit 1.20)`);
    if (rss.length > 1) {
      const growth = (rss.at(-1)! - rss[0]!) / (rss.length - 1);
      // The first sweep grows the heap to its working size; the growth that matters is what goes on after it.
      console.log(
        `server RSS ${rss.map((r) => r.toFixed(0)).join(" → ")} MiB: growth per ${MAILBOXES} tests after the first sweep ${growth.toFixed(1)} MiB (limit 20)`,
      );
    }
    console.log(
      `mailbox page p95: idle ${p95(idle).toFixed(1)} ms (${idle.length} requests), during sweeps ${p95(during).toFixed(1)} ms ` +
        `(${during.length} requests) → ${(p95(during) / p95(idle)).toFixed(2)}× (limit 2×)`,
    );
  } finally {
    db.$client.close();
    await portal.stop();
    await rig.stop();
  }
}
