// The test button in Chromium against the production build and the test rig: click → first step
// shown and click → all steps shown, for a mailbox's first test (cold: Microsoft is asked for the
// token, the page has just loaded) and its next one (warm: the token is cached), each beside the
// server's time (the request's first byte sent until its last byte received, from the browser's
// resource timing). What the page adds is the click-to-all-shown time less the server's.
// Run: npm run bench:button   (BENCH_RUNS, default 8)
import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { withRig } from "./rig-process";
import { median } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 8);
// Five tests a minute per user is the portal's limit; each run tests twice, so users take turns.
const USERS = Math.ceil(((RUNS + 1) * 2) / 4);

await withRig(bench);

type Measure = { firstMs: number; allMs: number; serverMs: number; checksMs: number };

async function bench(): Promise<void> {
  const { startRig } = await import("../tests/support/rig/rig");
  const { startRigPortal } = await import("../tests/support/rig-portal");
  const { launchBrowser, signInWith } = await import("../tests/support/browser");
  const rig = await startRig();
  const { portal, db, root } = await startRigPortal(rig, { MONITOR: "off" });
  const browser = await launchBrowser();
  try {
    const { createTenant } = await import("@/lib/tenants/queries");
    const { createMailbox } = await import("@/lib/mailbox/save");
    const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
    const { createUser } = await import("@/lib/users/queries");
    const tenant = await createTenant(db, root, { name: "Bench", slug: "bench" });
    const pages: Page[] = [];
    for (let u = 0; u < USERS; u++) {
      const email = `bench-${u}@navigator.test`;
      const password = `bench password ${u} ${randomBytes(6).toString("hex")}`;
      await createUser(db, null, { email, name: email, role: "tenant_admin", tenantId: tenant.id, password });
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      await signInWith(page, portal.url, email, password);
      await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
      pages.push(page);
    }
    const cold: Measure[] = [];
    const warm: Measure[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const page = pages[i % USERS]!;
      const form = rig.mailboxForm(rig.addUser(), { name: `Bench ${i}` });
      const mailbox = await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
      await page.goto(`${portal.url}/tenants/bench/mailboxes/${mailbox.id}`, { waitUntil: "networkidle" });
      const first = await clickAndMeasure(page);
      await page.waitForLoadState("networkidle");
      const second = await clickAndMeasure(page);
      await page.waitForLoadState("networkidle");
      // The first run warms the browser and the server's code paths.
      if (i === 0) continue;
      cold.push(first);
      warm.push(second);
    }
    console.log(`runs: ${RUNS}, each a new mailbox's first test (cold) and its second (warm), production build`);
    for (const [label, list] of [
      ["warm", warm],
      ["cold", cold],
    ] as const) {
      const first = median(list.map((m) => m.firstMs));
      const all = median(list.map((m) => m.allMs));
      const server = median(list.map((m) => m.serverMs));
      const checks = median(list.map((m) => m.checksMs));
      const added = median(list.map((m) => m.allMs - m.serverMs));
      console.log(
        `${label}: click → first step ${first.toFixed(0)} ms, click → all steps ${all.toFixed(0)} ms, server ${server.toFixed(0)} ms (the checks ${checks.toFixed(0)} ms), page adds ${added.toFixed(0)} ms (goal ≤ ${label === "warm" ? 100 : 200} ms)`,
      );
    }
  } finally {
    await browser.close();
    db.$client.close();
    await portal.stop();
    await rig.stop();
  }
}

/** Clicks "Send test email" and times, in the page, the first finished step and the result line. */
function clickAndMeasure(page: Page): Promise<Measure> {
  return page.evaluate(
    () =>
      new Promise<Measure>((resolve, reject) => {
        const button = [...document.querySelectorAll("button")].find((b) => b.textContent === "Send test email");
        if (!button) return reject(new Error("no Send test email button"));
        performance.clearResourceTimings();
        let firstMs: number | null = null;
        const started = performance.now();
        const observer = new MutationObserver(() => {
          const shown = document.querySelectorAll(".steps > li.step-passed, .steps > li.step-failed").length;
          if (firstMs === null && shown > 0) firstMs = performance.now() - started;
          const result = document.querySelector(".result");
          if (!result) return;
          const allMs = performance.now() - started;
          observer.disconnect();
          if (!result.classList.contains("result-ok")) return reject(new Error(result.textContent ?? "failed"));
          const request = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/tests")) as
            | PerformanceResourceTiming
            | undefined;
          const serverMs = request ? request.responseEnd - request.requestStart : Number.NaN;
          // The checks' own time, as the result line states it ("All steps passed in 131 ms").
          const stated = /passed in ([\d.]+) (ms|s)\b/.exec(result.textContent ?? "");
          const checksMs = stated ? Number(stated[1]) * (stated[2] === "s" ? 1000 : 1) : Number.NaN;
          resolve({ firstMs: firstMs ?? allMs, allMs, serverMs, checksMs });
        });
        observer.observe(document.body, { childList: true, subtree: true, attributes: true });
        setTimeout(() => reject(new Error(`no result: ${document.querySelector(".test-live")?.textContent}`)), 30_000);
        button.click();
      }),
  );
}
