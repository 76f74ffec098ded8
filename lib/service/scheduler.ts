import "server-only";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { Cron } from "croner";
import { getDb } from "@/db/client";
import { getEnv } from "@/lib/env";
import { describeError } from "@/lib/errors";
import { deliverDueAlertsAndLog } from "./alerts/delivery";
import { runSweep } from "./monitor";

const globalForScheduler = globalThis as unknown as { navigatorScheduler?: Cron[] };

/**
 * Starts the monitoring in this portal process (npm start does, unless MONITOR=off): every
 * MONITOR_SCHEDULE a sweep starts what is due. Each process may start one; the sweep's lease in the
 * database lets only one of them work at a time.
 */
export function startMonitoring(): void {
  const env = getEnv();
  if (env.MONITOR === "off" || globalForScheduler.navigatorScheduler) return;
  const holder = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const catcher = (name: string) => (error: unknown) => console.error(`${name}:`, describeError(error));
  globalForScheduler.navigatorScheduler = [
    new Cron(
      env.MONITOR_SCHEDULE,
      // protect: a sweep still running when the next one is due is not started twice.
      { name: "monitor", protect: true, catch: catcher("monitor") },
      async () => {
        const report = await runSweep(getDb(), { holder, concurrency: env.MONITOR_CONCURRENCY });
        if (report.swept && (report.due > 0 || report.alerts > 0)) {
          console.log(
            `monitor: ${report.due} due, ${report.passed} passed, ${report.failed} failed, ${report.held} held back, ${report.deferred} deferred, ${report.alerts} alerts`,
          );
        }
      },
    ),
    // Alerts go out on their own schedule, so a slow webhook never holds up a sweep (or the reverse).
    new Cron(env.MONITOR_SCHEDULE, { name: "alerts", protect: true, catch: catcher("alerts") }, () =>
      deliverDueAlertsAndLog(getDb()),
    ),
  ];
}
