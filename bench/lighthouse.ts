// Lighthouse (performance and accessibility) on the mailbox page and the status overview of the
// production build, and the JavaScript each loads first (gzip).
// Run: npm run bench:lighthouse   (BENCH_RUNS, default 5; CHROME_PATH, default /usr/bin/chromium)
// BENCH_NO_JS=1 blocks every script: the same pages as plain server-rendered HTML, for comparison.
import { gzipSync } from "node:zlib";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { CHROMIUM_FLAGS } from "../tests/support/browser";
import { startSeededPortal } from "./seeded-portal";
import { median } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NO_JS = process.env.BENCH_NO_JS === "1";
const CHROME = process.env.CHROME_PATH ?? "/usr/bin/chromium";
const METRICS = [
  "first-contentful-paint",
  "largest-contentful-paint",
  "total-blocking-time",
  "cumulative-layout-shift",
  "speed-index",
];

const { portal, cookie, seed } = await startSeededPortal();
const chrome = await chromeLauncher.launch({
  chromePath: CHROME,
  chromeFlags: CHROMIUM_FLAGS,
});
try {
  const { lastMailboxId } = await seed("acme", 20);
  const pages: [string, string][] = [
    ["mailbox page", `${portal.url}/tenants/acme/mailboxes/${lastMailboxId}`],
    ["status overview", `${portal.url}/status`],
  ];
  console.log(
    `Lighthouse, ${RUNS} runs per page (default mobile profile, simulated throttling)${NO_JS ? ", scripts blocked" : ""}:`,
  );
  for (const [label, url] of pages) {
    const performance: number[] = [];
    const accessibility: number[] = [];
    const problems = new Set<string>();
    const metrics: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      const result = await lighthouse(url, {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance", "accessibility"],
        extraHeaders: { Cookie: cookie },
        ...(NO_JS ? { blockedUrlPatterns: ["*.js"] } : {}),
      });
      const lhr = result!.lhr;
      performance.push(Math.round((lhr.categories.performance?.score ?? 0) * 100));
      accessibility.push(Math.round((lhr.categories.accessibility?.score ?? 0) * 100));
      for (const id of METRICS) {
        metrics[id] = [...(metrics[id] ?? []), lhr.audits[id]?.numericValue ?? Number.NaN];
      }
      if (process.env.BENCH_DETAILS && i === 0) {
        const details = (id: string) => JSON.stringify(lhr.audits[id]?.details ?? {}).slice(0, 1500);
        for (const id of ["largest-contentful-paint-element", "mainthread-work-breakdown", "bootup-time", "long-tasks"])
          console.log(`  ${id}: ${details(id)}`);
      }
      for (const ref of lhr.categories.accessibility?.auditRefs ?? []) {
        const audit = lhr.audits[ref.id];
        if (audit && audit.score !== null && audit.score < 1 && ref.weight > 0)
          problems.add(`${ref.id}: ${audit.title}`);
      }
    }
    const html = await (await fetch(url, { headers: { cookie } })).text();
    // A nomodule script (the polyfills for old browsers) is never fetched by a browser that runs modules.
    const tags = [...html.matchAll(/<script[^>]+src="([^"]+)"[^>]*>/g)].filter((m) => !/nomodule/i.test(m[0]));
    const scripts = [...new Set(tags.map((m) => m[1]!))];
    let raw = 0;
    let gzip = 0;
    for (const src of scripts) {
      const body = Buffer.from(await (await fetch(new URL(src, portal.url))).arrayBuffer());
      raw += body.length;
      gzip += gzipSync(body).length;
    }
    console.log(`${label}:`);
    console.log(`  performance:   median ${median(performance)} (runs ${performance.join(", ")}; goal >= 95)`);
    console.log(`  accessibility: median ${median(accessibility)} (runs ${accessibility.join(", ")}; goal >= 95)`);
    console.log(
      `  metrics (median): ${METRICS.map((id) => `${id} ${median(metrics[id] ?? []).toFixed(id === "cumulative-layout-shift" ? 3 : 0)}`).join(", ")}`,
    );
    if (problems.size) console.log(`  accessibility findings: ${[...problems].join("; ")}`);
    console.log(
      `  first-load JS: ${scripts.length} scripts, ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip (goal <= 150)`,
    );
  }
} finally {
  chrome.kill();
  await portal.stop();
}
