// Another portal process evaluating alerts: opens the database DATABASE_URL names and, at the agreed
// moment, runs the same evaluation as the monitoring sweep and a recorded test. Prints how many it raised.
// Usage: DATABASE_URL=… tsx --conditions=react-server tests/support/evaluate-alerts-at.ts <clock ms> <start at ms>
import { closeDb, getDb } from "@/db/client";
import { evaluateAlerts } from "@/lib/service/alerts/evaluate";

const [clock, startAt] = process.argv.slice(2).map(Number) as [number, number];
const db = getDb();
// Both processes start together: wait for the moment, then evaluate at once.
while (Date.now() < startAt) {
  /* spin: a timer would add its own delay */
}
process.stdout.write(String(await evaluateAlerts(db, clock)));
await closeDb();
