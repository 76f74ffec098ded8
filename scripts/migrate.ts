import { closeDb, databaseProblem, getDb, migrateDatabase } from "@/db/client";
import { getEnv } from "@/lib/env";
import { loadLaunchEnv } from "./launch-env";

loadLaunchEnv();
try {
  await migrateDatabase(getDb());
  await closeDb();
  console.log("Migrations applied.");
} catch (error) {
  console.error(`Migrations not applied: DATABASE_URL: ${databaseProblem(error, getEnv().DATABASE_URL)}`);
  process.exit(1);
}
