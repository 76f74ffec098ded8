import path from "node:path";
import { isPostgresUrl } from "@/db/url";
import { databasePath, type Env, EnvError, getEnv, insecureUrlProblem } from "@/lib/env";
import { ensureLocalSecrets } from "@/lib/local-secrets";

/**
 * Outside production, generates the secrets a local install needs (once, mode 0600) and
 * then validates the whole environment; exits with the problems named when it is invalid.
 */
export function loadLaunchEnv(): Env {
  if (process.env.NODE_ENV !== "production") {
    const dbUrl = process.env.DATABASE_URL || "file:./data/navigator-mail.db";
    const dbFile = isPostgresUrl(dbUrl) ? ":memory:" : databasePath({ DATABASE_URL: dbUrl });
    // Beside the SQLite file; ./data for an in-memory or PostgreSQL database.
    const dataDir = dbFile === ":memory:" ? path.resolve("data") : path.dirname(path.resolve(dbFile));
    const secrets = ensureLocalSecrets(dataDir, process.env);
    if (secrets.created) {
      console.log(`Generated ${secrets.applied.join(" and ")} for a local install in ${secrets.file} (mode 0600).`);
      console.log("For production set them in the environment instead; see README.md.");
    } else if (secrets.applied.length > 0) {
      console.log(`Using ${secrets.applied.join(" and ")} from ${secrets.file}.`);
    }
  }
  try {
    const env = getEnv();
    const insecure = insecureUrlProblem(env);
    if (insecure) throw new EnvError([insecure]);
    return env;
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    console.error(error.message);
    console.error(
      "Navigator Mail did not start. Set the variables above (see README.md, Configuration) and start again.",
    );
    process.exit(1);
  }
}
