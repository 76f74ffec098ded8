// Another portal process evaluating alerts: opens the database file and, at the agreed moment,
// runs the same evaluation as the monitoring sweep and a recorded test. Prints how many it raised.
// Usage: tsx --conditions=react-server tests/support/evaluate-alerts-at.ts <db file> <clock ms> <start at ms>
import { openDatabase } from "@/db/client";
import { evaluateAlerts } from "@/lib/service/alerts/evaluate";

const [file, clock, startAt] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v))) as [
  string,
  number,
  number,
];
const db = openDatabase(file);
// Both processes start together: wait for the moment, then evaluate at once.
while (Date.now() < startAt) {
  /* spin: a timer would add its own delay */
}
process.stdout.write(String(await evaluateAlerts(db, clock)));
db.$client.close();
