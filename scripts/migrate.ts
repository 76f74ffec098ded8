import { closeDb, getDb, migrateDatabase } from "@/db/client";
import { loadLaunchEnv } from "./launch-env";

loadLaunchEnv();
try {
  await migrateDatabase(getDb());
  await closeDb();
  console.log("Migrations applied.");
} catch (error) {
  console.error(error);
  process.exit(1);
}
