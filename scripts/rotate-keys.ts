import { closeDb, getDb, migrateDatabase } from "@/db/client";
import { resealAll } from "@/lib/service/key-rotation";
import { loadLaunchEnv } from "./launch-env";

// npm run keys:rotate — after putting a new key first in SECRETS_KEYS (keep the old ones until this has run).
const env = loadLaunchEnv();
const db = getDb();
await migrateDatabase(db);
const report = await resealAll(db);
await closeDb();
console.log(
  `Active key: ${env.SECRETS_KEYS[0]!.id}. Re-sealed ${report.resealed} secret(s); ${report.current} already used the active key.`,
);
if (report.dropped > 0)
  console.log(
    `Dropped ${report.dropped} token cache(s) no configured key could open; those mailboxes sign in afresh at their next test.`,
  );
if (report.unreadable.length > 0) {
  console.error(
    `${report.unreadable.length} secret(s) could not be opened with any configured key; they must be entered again:`,
  );
  for (const item of report.unreadable)
    console.error(`  ${item.owner} ${item.id} "${item.name}" (tenant ${item.tenantId})`);
  process.exit(2);
}
