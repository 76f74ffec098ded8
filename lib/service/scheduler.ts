import "server-only";
import { Cron } from "croner";
import { getDb } from "@/db/client";
import { getEnv } from "@/lib/env";
import { describeError } from "@/lib/errors";
import { deliverDueAlertsAndLog } from "./alerts/delivery";
import { takeOverSignIns } from "./device-sign-ins";
import { runSweep } from "./monitor";

const globalForScheduler = globalThis as unknown as { navigatorScheduler?: Cron[] };

/**
 * Starts the monitoring in this portal process (npm start does, unless MONITOR=off): every
 * MONITOR_SCHEDULE a sweep starts what is due. Every portal process sweeps; each due run is claimed in
 * the database, so several processes share the work and test each mailbox once.
 */
export function startMonitoring(): void {
  const env = getEnv();
  if (env.MONITOR === "off" || globalForScheduler.navigatorScheduler) return;
  const catcher = (name: string) => (error: unknown) => console.error(`${name}:`, describeError(error));
  globalForScheduler.navigatorScheduler = [
    new Cron(
      env.MONITOR_SCHEDULE,
      // protect: a sweep still running when the next one is due is not started twice.
      { name: "monitor", protect: true, catch: catcher("monitor") },
      async () => {
        const report = await runSweep(getDb(), { concurrency: env.MONITOR_CONCURRENCY });
        if (report.due > report.elsewhere || report.alerts > 0) {
          console.log(
            `monitor: ${report.due - report.elsewhere} due, ${report.passed} passed, ${report.failed} failed, ${report.held} held back, ${report.deferred} deferred, ${report.alerts} alerts`,
          );
        }
      },
    ),
    // A Microsoft sign-in whose polling process stopped is taken over within seconds, even with no page open.
    new Cron("*/10 * * * * *", { name: "sign-ins", protect: true, catch: catcher("sign-ins") }, async () => {
      await takeOverSignIns(getDb());
    }),
    // Alerts go out on their own schedule, so a slow webhook never holds up a sweep (or the reverse).
    new Cron(env.MONITOR_SCHEDULE, { name: "alerts", protect: true, catch: catcher("alerts") }, () =>
      deliverDueAlertsAndLog(getDb()),
    ),
  ];
}
