import { z } from "zod";
import { type Db, getDb } from "@/db/client";
import type { UserActor } from "@/lib/auth/actor";
import { currentActor } from "@/lib/auth/session";
import { describeError, NotFoundError, UserError } from "@/lib/errors";
import { getTenantBySlugFor } from "@/lib/tenants/queries";

export type MailboxRouteParams = { slug: string; mailboxId: string; signInId?: string; setupId?: string };

const params = z.object({
  slug: z.string().min(1).max(100),
  mailboxId: z.coerce.number().int().positive().optional(),
  signInId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{24}$/)
    .optional(),
  setupId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{24}$/)
    .optional(),
});

type Scope = {
  db: Db;
  actor: UserActor;
  ref: { tenantId: number; mailboxId: number };
  signInId?: string;
  setupId?: string;
};

/**
 * The signed-in administrator and the mailbox of the address, for the sign-in and Entra setup routes: 401 without a
 * session, 404 for another tenant's mailbox or an unknown one, 500 without details for anything else.
 */
export async function withMailbox(
  context: { params: Promise<MailboxRouteParams> },
  handle: (scope: Scope) => Promise<Response> | Response,
): Promise<Response> {
  return withTenantScope(context, (scope) =>
    scope.mailboxId === undefined
      ? Response.json({ error: "Not found" }, { status: 404 })
      : handle({ ...scope, ref: { tenantId: scope.tenantId, mailboxId: scope.mailboxId } }),
  );
}

/** The same for the tenant's own routes (the Entra setup of its default app registration). */
export async function withTenant(
  context: { params: Promise<Omit<MailboxRouteParams, "mailboxId">> },
  handle: (scope: {
    db: Db;
    actor: UserActor;
    ref: { tenantId: number; mailboxId: null };
    setupId?: string;
  }) => Promise<Response> | Response,
): Promise<Response> {
  return withTenantScope(context, (scope) => handle({ ...scope, ref: { tenantId: scope.tenantId, mailboxId: null } }));
}

async function withTenantScope(
  context: { params: Promise<Partial<MailboxRouteParams>> },
  handle: (scope: {
    db: Db;
    actor: UserActor;
    tenantId: number;
    mailboxId?: number;
    signInId?: string;
    setupId?: string;
  }) => Promise<Response> | Response,
): Promise<Response> {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: "Sign in first." }, { status: 401 });
  if (actor.mustChangePassword) return Response.json({ error: "Change your password first." }, { status: 403 });
  const ids = params.safeParse(await context.params);
  if (!ids.success) return Response.json({ error: "Not found" }, { status: 404 });
  try {
    const db = getDb();
    const tenant = await getTenantBySlugFor(db, actor, ids.data.slug);
    const { mailboxId, signInId, setupId } = ids.data;
    return await handle({ db, actor, tenantId: tenant.id, mailboxId, signInId, setupId });
  } catch (error) {
    if (error instanceof NotFoundError) return Response.json({ error: "Not found" }, { status: 404 });
    if (error instanceof UserError) return Response.json({ error: error.message }, { status: 403 });
    console.error("sign-in request failed:", describeError(error));
    return Response.json({ error: "Something went wrong on the server." }, { status: 500 });
  }
}
