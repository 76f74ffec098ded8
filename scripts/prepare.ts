import { closeDb, databaseProblem, getDb, migrateDatabase } from "@/db/client";
import { ensureFirstAdmin } from "@/lib/bootstrap";
import { getEnv } from "@/lib/env";

/** Applies migrations and creates the first super-admin; prints its password once. */
export async function prepareDatabase(): Promise<void> {
  const db = getDb();
  try {
    await migrateDatabase(db);
  } catch (error) {
    console.error(`Navigator Mail did not start: DATABASE_URL: ${databaseProblem(error, getEnv().DATABASE_URL)}`);
    process.exit(1);
  }
  const admin = await ensureFirstAdmin(db, getEnv());
  await closeDb();
  if (admin) {
    console.log("");
    console.log("  First super-admin created. Sign in with:");
    console.log(`    email:    ${admin.email}`);
    if (admin.generatedPassword) console.log(`    password: ${admin.password}`);
    else console.log("    password: the value of FIRST_ADMIN_PASSWORD");
    console.log("  This password is shown only now; change it under Account after signing in.");
    console.log("");
  }
}
