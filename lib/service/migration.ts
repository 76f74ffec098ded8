import "server-only";
import { and, asc, count, desc, eq, inArray, isNotNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { entraSetups, type Mailbox, mailboxes, tenants } from "@/db/schema";
import { assertSuperAdmin, assertTenantAccess, type UserActor } from "@/lib/auth/actor";
import { CATALOGUE, type Diagnosis, diagnose } from "@/lib/engine/diagnoses";
import type { MailTransport, SignInMethod } from "@/lib/engine/settings";
import { UserError } from "@/lib/errors";
import { getMailboxToChange } from "@/lib/mailbox/queries";
import { assertOnPasswordGrant, moveToAppOnly, recordFailedMove } from "@/lib/mailbox/save";
import { PAGE_SIZE, pageWindow } from "@/lib/paging";
import { startMailboxTest, testToEnd } from "./mailbox-tests";
import type { Refusal } from "./refusals";
import { checkSettingsFor } from "./test-settings";

/**
 * Moving mailboxes off the setup guide's password grant, which MFA blocks and Microsoft retires: what
 * each tenant has on which sign-in method, the password-grant mailboxes worst first, and where each
 * would go. Every move is proven by a passing test before the mailbox changes.
 */

/** A password-grant mailbox's state, worst first: the password grant refused for MFA, failing, healthy. */
const MIGRATION_STATES = ["mfa-blocked", "failing", "untested", "healthy"] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export const MIGRATION_STATE_LABELS: Record<MigrationState, string> = {
  "mfa-blocked": "Blocked by MFA",
  failing: "Failing",
  untested: "Never tested",
  healthy: "Healthy",
};

/** Diagnoses that mean the account's MFA or Conditional Access refuses the password grant outright. */
const MFA_BLOCKED_CODES = Object.entries(CATALOGUE)
  .filter(([, entry]) => entry.setupStep === "conditional-access")
  .map(([code]) => code);

/**
 * Where a mailbox would go: app-only through the one-click Entra setup (or the app another mailbox of
 * the tenant already signs in with), or the Microsoft sign-in (device code) where the organisation did
 * not let the setup grant consent.
 */
type MigrationTarget = { method: "app" | "device"; reason: string };

export type MigrationRow = {
  id: number;
  tenantId: number;
  tenantSlug: string;
  tenantName: string;
  name: string;
  login: string;
  transport: MailTransport;
  version: number;
  state: MigrationState;
  lastFailureCode: string | null;
  lastTestAt: Date | null;
  target: MigrationTarget;
};

/** An app-only mailbox of the tenant whose app others may move to. */
export type AppDonor = { id: number; name: string; azureClientId: string };

export type MigrationOverview = {
  counts: { signInMethod: SignInMethod; transport: MailTransport; mailboxes: number }[];
  /** This page of the password-grant mailboxes; `total` of them in all. */
  rows: MigrationRow[];
  total: number;
  page: number;
  pages: number;
  /** Per tenant: the app-only mailboxes a selection can move to. */
  donors: Record<number, AppDonor[]>;
};

/** Setup failures that mean the organisation does not let the one-click setup register an app. */
const SETUP_NOT_ALLOWED = ["SETUP_ROLE_MISSING", "SETUP_CONSENT_BLOCKED", "SETUP_NOT_MEMBER"];

/** The state as SQL, so the list is ordered worst first and paged in the database. */
const STATE = sql<MigrationState>`CASE
  WHEN ${mailboxes.health} = 'failing' AND ${inArray(mailboxes.lastFailureCode, MFA_BLOCKED_CODES)} THEN 'mfa-blocked'
  WHEN ${mailboxes.health} = 'failing' THEN 'failing'
  WHEN ${mailboxes.lastTestAt} IS NULL THEN 'untested'
  ELSE 'healthy' END`;
const RANK = sql.raw(`CASE state ${MIGRATION_STATES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(" ")} END`);

/**
 * The view for one tenant, or (`tenantId` null) for a super-admin across all tenants: the counts, and
 * the password-grant mailboxes worst first, a page at a time.
 */
export async function migrationOverview(
  db: Db,
  actor: UserActor,
  tenantId: number | null,
  query: { page?: number } = {},
): Promise<MigrationOverview> {
  if (tenantId === null) assertSuperAdmin(actor);
  else assertTenantAccess(actor, tenantId);
  const scope: SQL | undefined = tenantId === null ? undefined : eq(mailboxes.tenantId, tenantId);
  const counts = await db
    .select({ signInMethod: mailboxes.signInMethod, transport: mailboxes.transport, mailboxes: count() })
    .from(mailboxes)
    .where(scope)
    .groupBy(mailboxes.signInMethod, mailboxes.transport)
    .orderBy(asc(mailboxes.signInMethod), asc(mailboxes.transport));
  const total = counts.filter((c) => c.signInMethod === "password").reduce((sum, c) => sum + c.mailboxes, 0);
  const { page, pages, offset } = pageWindow(total, query.page);
  const listed = db
    .select({
      id: mailboxes.id,
      tenantId: mailboxes.tenantId,
      tenantSlug: tenants.slug,
      // Aliased: the subquery's columns are read back by name, and the mailbox has a "name" too.
      tenantName: sql<string>`${tenants.name}`.as("tenant_name"),
      name: mailboxes.name,
      login: mailboxes.login,
      transport: mailboxes.transport,
      version: mailboxes.version,
      state: STATE.as("state"),
      lastFailureCode: mailboxes.lastFailureCode,
      lastTestAt: mailboxes.lastTestAt,
    })
    .from(mailboxes)
    .innerJoin(tenants, eq(mailboxes.tenantId, tenants.id))
    .where(and(eq(mailboxes.signInMethod, "password"), scope))
    .as("listed");
  const onPage = await db
    .select()
    .from(listed)
    .orderBy(RANK, sql`tenant_name`, listed.name, listed.id)
    .limit(PAGE_SIZE)
    .offset(offset);
  const tenantIds = [...new Set(onPage.map((r) => r.tenantId))];
  const donors = await appDonors(db, tenantIds);
  const blocked = await setupBlocked(db, tenantIds);
  const rows = onPage.map((row) => ({
    ...row,
    lastTestAt: row.lastTestAt === null ? null : new Date(row.lastTestAt),
    target: targetOf(donors[row.tenantId] ?? [], blocked.get(row.tenantId)),
  }));
  return { counts, rows, donors, total, page, pages };
}

function targetOf(donors: AppDonor[], blockedBy: string | undefined): MigrationTarget {
  if (donors.length > 0)
    return { method: "app", reason: `App-only with the app ${donors[0]!.name} already signs in with.` };
  if (blockedBy)
    return {
      method: "device",
      reason: `Microsoft sign-in: this organisation's last Entra setup could not register an app (${blockedBy}).`,
    };
  return { method: "app", reason: "App-only, through Set up in Microsoft Entra for me." };
}

async function appDonors(db: Db, tenantIds: number[]): Promise<Record<number, AppDonor[]>> {
  if (tenantIds.length === 0) return {};
  const rows = await db
    .select({
      id: mailboxes.id,
      tenantId: mailboxes.tenantId,
      name: mailboxes.name,
      azureClientId: mailboxes.azureClientId,
    })
    .from(mailboxes)
    .where(
      and(
        inArray(mailboxes.tenantId, tenantIds),
        eq(mailboxes.signInMethod, "app"),
        isNotNull(mailboxes.azureClientId),
      ),
    )
    .orderBy(asc(mailboxes.name));
  const byTenant: Record<number, AppDonor[]> = {};
  for (const row of rows) {
    byTenant[row.tenantId] = [...(byTenant[row.tenantId] ?? []), { ...row, azureClientId: row.azureClientId! }];
  }
  return byTenant;
}

/** The tenants whose latest Entra setup ended because the organisation does not allow it, with its code. */
async function setupBlocked(db: Db, tenantIds: number[]): Promise<Map<number, string>> {
  const blocked = new Map<number, string>();
  if (tenantIds.length === 0) return blocked;
  const rows = await db
    .select({ tenantId: entraSetups.tenantId, failureCode: entraSetups.failureCode })
    .from(entraSetups)
    .where(inArray(entraSetups.tenantId, tenantIds))
    .orderBy(desc(entraSetups.createdAt));
  const seen = new Set<number>();
  for (const row of rows) {
    if (seen.has(row.tenantId)) continue;
    seen.add(row.tenantId);
    if (row.failureCode && SETUP_NOT_ALLOWED.includes(row.failureCode)) blocked.set(row.tenantId, row.failureCode);
  }
  return blocked;
}

/** Moved; or its test failed (the diagnosis); or no test could start now (a refusal: the limits). */
export type MoveResult =
  | { ok: true; mailbox: Mailbox }
  | { ok: false; diagnosis: Diagnosis }
  | { ok: false; refusal: Refusal };

/**
 * Moves a password-grant mailbox to app-only with the app another mailbox of the same tenant signs in
 * with (its ClientID, TenantID and credential): a full test of the saved settings with that app must
 * pass, then one audited write switches the mailbox. A failed test leaves it as it was and says why
 * (typically the Exchange permission on this mailbox that the app still lacks, with its line).
 */
export async function moveToAppOf(
  db: Db,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  donorId: number,
): Promise<MoveResult> {
  const mailbox = await getMailboxToChange(db, actor, at.tenantId, at.mailboxId);
  assertOnPasswordGrant(mailbox);
  if (mailbox.version !== at.version)
    throw new UserError(`${mailbox.name} was changed since this page was loaded: reload it, then move it again.`);
  // Another tenant's mailbox is as unknown as none.
  const donor = await getMailboxToChange(db, actor, at.tenantId, donorId);
  const credential = checkSettingsFor(donor).appCredential;
  if (donor.signInMethod !== "app" || !credential || !donor.azureClientId || !donor.azureTenantId)
    throw new UserError(`${donor.name} does not sign in app-only with a stored credential.`);
  const app = { azureClientId: donor.azureClientId, azureTenantId: donor.azureTenantId, cloud: donor.cloud };
  const settings = {
    ...checkSettingsFor(mailbox),
    ...app,
    signInMethod: "app" as const,
    password: null,
    appCredential: credential,
  };
  const refused = async (diagnosis: Diagnosis): Promise<MoveResult> => {
    await recordFailedMove(db, actor, mailbox, { to: "app", code: diagnosis.code, app: donor.azureClientId });
    return { ok: false, diagnosis };
  };
  const started = await startMailboxTest(db, actor, { ...at, source: "form", settings });
  // Nothing was tried: the caller may wait (Retry-After) and ask again.
  if (!started.ok) return { ok: false, refusal: started.refusal };
  const result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant: "" });
  const failed = result.steps.find((s) => s.status === "failed");
  if (!result.ok) return refused(failed?.diagnosis ?? diagnose("UNEXPECTED"));
  const secrets =
    credential.kind === "secret"
      ? { clientSecret: credential.secret, clientSecretExpiresAt: donor.appCredentialExpiresAt ?? undefined }
      : { certificatePem: credential.certificatePem, privateKeyPem: credential.privateKeyPem };
  return { ok: true, mailbox: await moveToAppOnly(db, actor, at, app, secrets) };
}
