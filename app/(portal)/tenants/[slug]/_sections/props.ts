import type { Db } from "@/db/client";
import type { Tenant } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import type { MailboxSummary } from "@/lib/mailbox/queries";

/** What the tenant page hands each of its sections: the database, who asks, the tenant and its mailboxes. */
export type TenantSectionProps = { db: Db; actor: UserActor; tenant: Tenant; mailboxes: MailboxSummary[] };
