import type { Db } from "@/db/client";
import { freshDb, seedWorld, type World } from "./db";
import { type Rig, startRig } from "./rig/rig";

export type RigWorld = { rig: Rig; db: Db; world: World };

/**
 * The rig, a fresh database with two tenants and their admins, and the portal's configuration pointed
 * at the rig (set before anything parses it): what every service-level test of mailboxes starts from.
 */
export async function startRigWorld(): Promise<RigWorld> {
  const rig = await startRig();
  process.env.ENTRA_AUTHORITY_HOST = rig.entra.authorityHost;
  process.env.ENTRA_GRAPH_HOST = rig.entra.authorityHost;
  process.env.MAIL_ALLOW_PRIVATE = rig.allowlist.join(",");
  const db = await freshDb();
  return { rig, db, world: await seedWorld(db) };
}
