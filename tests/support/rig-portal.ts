import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { asActor, closeOpened, openUrl } from "./db";
import { type Portal, startPortal } from "./portal";
import type { Rig } from "./rig/rig";

/**
 * The built portal pointed at the rig, for tests that also write to its database: it shares this
 * process's secrets (so sealed values written here open there), and its first admin is the actor.
 */
export async function startRigPortal(
  rig: Rig,
  env: Record<string, string> = {},
  options: Parameters<typeof startPortal>[1] = {},
): Promise<{ portal: Portal; db: Db; root: UserActor }> {
  const portal = await startPortal(
    {
      ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
      ENTRA_GRAPH_HOST: rig.entra.authorityHost,
      MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
      AUTH_SECRET: process.env.AUTH_SECRET!,
      SECRETS_KEYS: process.env.SECRETS_KEYS!,
      ...env,
    },
    options,
  );
  const db = openUrl(portal.databaseUrl);
  try {
    const root = asActor((await db.select().from(users).where(eq(users.email, portal.admin.email)))[0]!);
    return { portal, db, root };
  } catch (error) {
    // The caller never gets the portal to stop: stop it here rather than leave it running.
    await closeOpened(db);
    await portal.stop();
    throw error;
  }
}
