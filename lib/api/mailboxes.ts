import "server-only";
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "@/db/client";
import { type Mailbox, mailboxes } from "@/db/schema";
import { type ApiKeyActor, assertTenantAccess } from "@/lib/auth/actor";
import { identitiesOf } from "@/lib/engine/settings";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { signInStateOf } from "@/lib/service/sign-in-state";
import { lastTestsFor } from "@/lib/service/test-history";
import type { mailboxDetailSchema, mailboxListSchema, mailboxSummarySchema } from "./schemas";

type Summary = z.infer<typeof mailboxSummarySchema>;

/** A page of the mailboxes the key may see, by id; the cursor is the last id of the page before. */
export async function listMailboxesForKey(
  db: Db,
  actor: ApiKeyActor,
  page: { limit: number; cursor?: string },
): Promise<z.infer<typeof mailboxListSchema>> {
  assertTenantAccess(actor, actor.tenantId);
  const after = page.cursor ? Number.parseInt(Buffer.from(page.cursor, "base64url").toString("utf8"), 10) : 0;
  const rows = await db
    .select()
    .from(mailboxes)
    .where(
      and(
        eq(mailboxes.tenantId, actor.tenantId),
        gt(mailboxes.id, Number.isFinite(after) ? after : 0),
        actor.mailboxIds ? inArray(mailboxes.id, actor.mailboxIds) : undefined,
      ),
    )
    .orderBy(asc(mailboxes.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  const more = rows.length > page.limit;
  const last = items.at(-1);
  return {
    items: items.map(summaryOf),
    next_cursor: more && last ? Buffer.from(String(last.id)).toString("base64url") : null,
  };
}

/** One mailbox as the business system may see it: settings without secrets, sign-in state, last test. */
export async function mailboxForKey(
  db: Db,
  actor: ApiKeyActor,
  mailboxId: number,
): Promise<z.infer<typeof mailboxDetailSchema>> {
  const mailbox = await getMailboxFor(db, actor, actor.tenantId, mailboxId);
  const last = (await lastTestsFor(db, [mailbox.id])).get(mailbox.id);
  const signIn = signInStateOf(mailbox);
  return {
    ...summaryOf(mailbox),
    smtp: mailbox.smtpHost && mailbox.smtpPort ? { host: mailbox.smtpHost, port: mailbox.smtpPort } : null,
    imap: mailbox.imapHost && mailbox.imapPort ? { host: mailbox.imapHost, port: mailbox.imapPort } : null,
    use_tls: mailbox.useTls,
    azure:
      mailbox.azureClientId && mailbox.azureTenantId
        ? { client_id: mailbox.azureClientId, tenant_id: mailbox.azureTenantId, cloud: mailbox.cloud }
        : null,
    sign_in:
      mailbox.signInMethod === "device"
        ? { state: signIn.kind, account: signIn.kind === "awaiting-sign-in" ? null : signIn.account }
        : null,
    credential_expires_at: mailbox.appCredentialExpiresAt?.toISOString() ?? null,
    last_test:
      last?.finishedAt && last.outcome !== "running"
        ? {
            id: last.id,
            outcome: last.outcome,
            finished_at: last.finishedAt.toISOString(),
            failure_code: last.failureCode,
          }
        : null,
    version: mailbox.version,
  };
}

function summaryOf(mailbox: Mailbox): Summary {
  const identities = identitiesOf(mailbox);
  return {
    id: mailbox.id,
    name: mailbox.name,
    type: mailbox.type,
    transport: mailbox.transport,
    login: mailbox.login,
    mailbox: identities.mailbox,
    send_as: identities.sendAs,
    sign_in_method: mailbox.signInMethod,
    updated_at: mailbox.updatedAt.toISOString(),
  };
}
