import { fieldErrorsResponse, refusalResponse } from "@/app/_lib/refusal-response";
import type { Db } from "@/db/client";
import type { UserActor } from "@/lib/auth/actor";
import {
  confirmEntraSetup,
  deleteCreatedApplication,
  getEntraSetup,
  startEntraSetup,
} from "@/lib/service/entra-setups/flow";
import { entraSetupStartSchema } from "@/lib/service/entra-setups/schema";

/** A mailbox's setup (mailboxId) or the tenant's default app registration's (null), as the routes resolved it. */
type SetupScope = { db: Db; actor: UserActor; ref: { tenantId: number; mailboxId: number | null }; setupId?: string };

const NO_STORE = { "cache-control": "no-store" };

/**
 * "Set up in Microsoft Entra for me": answers with the code to enter as soon as Entra gives it. The body
 * is read only here, once the caller is known to be an admin of this tenant: a stranger only learns 401.
 */
export async function startSetupAnswer({ db, actor, ref }: SetupScope, body: unknown): Promise<Response> {
  const input = entraSetupStartSchema.safeParse(body);
  if (!input.success) return fieldErrorsResponse(input.error);
  const started = await startEntraSetup(db, actor, ref, input.data);
  if (!started.ok) return refusalResponse(started.refusal);
  return Response.json({ setup: started.setup }, { headers: NO_STORE });
}

/** Where a setup stands; the page asks every two seconds while it waits. */
export async function setupAnswer({ db, actor, ref, setupId }: SetupScope): Promise<Response> {
  return Response.json({ setup: await getEntraSetup(db, actor, ref, setupId!) }, { headers: NO_STORE });
}

/** The admin confirmed the plan, resumes it or tests again: what is still missing is done, then tested. */
export async function confirmSetupAnswer({ db, actor, ref, setupId }: SetupScope): Promise<Response> {
  return Response.json({ setup: await confirmEntraSetup(db, actor, ref, setupId!) }, { headers: NO_STORE });
}

/** The setup failed after it registered an app: the admin deletes that app (and only that one). */
export async function deleteCreatedAppAnswer({ db, actor, ref, setupId }: SetupScope): Promise<Response> {
  return Response.json({ setup: await deleteCreatedApplication(db, actor, ref, setupId!) }, { headers: NO_STORE });
}
