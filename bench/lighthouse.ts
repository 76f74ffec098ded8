// Lighthouse (performance and accessibility) on the mailbox page, the tenant page and the status
// overview of the production build, with the desktop preset and the default mobile profile, and the
// JavaScript each page loads (gzip).
// Run: npm run bench:lighthouse   (BENCH_RUNS, default 5; CHROME_PATH, default /usr/bin/chromium)
import { gzipSync } from "node:zlib";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import { CHROMIUM_FLAGS } from "../tests/support/browser";
import { startSeededPortal } from "./seeded-portal";
import { median } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CHROME = process.env.CHROME_PATH ?? "/usr/bin/chromium";
const METRICS = [
  "first-contentful-paint",
  "largest-contentful-paint",
  "total-blocking-time",
  "cumulative-layout-shift",
  "speed-index",
];
// Desktop is what the portal's users have; mobile (a simulated mid-range phone) is reported beside it.
const PROFILES = [
  ["desktop", desktopConfig, 95],
  ["mobile", undefined, null],
] as const;

const { portal, cookie, seed } = await startSeededPortal();
const chrome = await chromeLauncher.launch({ chromePath: CHROME, chromeFlags: CHROMIUM_FLAGS });
try {
  const { lastMailboxId } = await seed("acme", 20);
  const pages: [string, string][] = [
    ["mailbox page", `${portal.url}/tenants/acme/mailboxes/${lastMailboxId}`],
    ["tenant page", `${portal.url}/tenants/acme`],
    ["status overview", `${portal.url}/status`],
  ];
  console.log(`Lighthouse, median of ${RUNS} runs per page and profile (simulated throttling):`);
  for (const [label, url] of pages) {
    console.log(`${label}:`);
    const scripts = new Set<string>();
    for (const [profile, config, goal] of PROFILES) {
      const performance: number[] = [];
      const accessibility: number[] = [];
      const problems = new Set<string>();
      const metrics: Record<string, number[]> = {};
      for (let i = 0; i < RUNS; i++) {
        const result = await lighthouse(
          url,
          {
            port: chrome.port,
            output: "json",
            logLevel: "error",
            onlyCategories: ["performance", "accessibility"],
            extraHeaders: { Cookie: cookie },
          },
          config,
        );
        const lhr = result!.lhr;
        performance.push(Math.round((lhr.categories.performance?.score ?? 0) * 100));
        accessibility.push(Math.round((lhr.categories.accessibility?.score ?? 0) * 100));
        for (const id of METRICS) {
          metrics[id] = [...(metrics[id] ?? []), lhr.audits[id]?.numericValue ?? Number.NaN];
        }
        // Every script the page loaded, the lazily loaded parts it shows included.
        const requests = (
          lhr.audits["network-requests"]?.details as { items?: { url: string; resourceType?: string }[] }
        )?.items;
        for (const request of requests ?? []) if (request.resourceType === "Script") scripts.add(request.url);
        for (const ref of lhr.categories.accessibility?.auditRefs ?? []) {
          const audit = lhr.audits[ref.id];
          if (audit && audit.score !== null && audit.score < 1 && ref.weight > 0)
            problems.add(`${ref.id}: ${audit.title}`);
        }
      }
      const goalText = goal === null ? "no goal" : `goal >= ${goal}`;
      console.log(`  ${profile}:`);
      console.log(`    performance:   median ${median(performance)} (runs ${performance.join(", ")}; ${goalText})`);
      console.log(`    accessibility: median ${median(accessibility)} (runs ${accessibility.join(", ")}; goal 100)`);
      console.log(
        `    metrics (median): ${METRICS.map((id) => `${id} ${median(metrics[id] ?? []).toFixed(id === "cumulative-layout-shift" ? 3 : 0)}`).join(", ")}`,
      );
      if (problems.size) console.log(`    accessibility findings: ${[...problems].join("; ")}`);
    }
    let raw = 0;
    let gzip = 0;
    for (const src of scripts) {
      const body = Buffer.from(await (await fetch(src)).arrayBuffer());
      raw += body.length;
      gzip += gzipSync(body).length;
    }
    console.log(
      `  JavaScript loaded: ${scripts.size} scripts, ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip (goal <= 150)`,
    );
  }
} finally {
  chrome.kill();
  await portal.stop();
}
