import "server-only";
import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type EntraSetup, entraSetups, type Mailbox, type MailboxTest, mailboxes, mailboxTests } from "@/db/schema";
import { CATALOGUE, type Diagnosis, type DiagnosisCode, diagnose } from "@/lib/engine/diagnoses";
import { signInMethodWith } from "@/lib/engine/settings";
import { type ChecklistItem, setupChecklist } from "../checklist";
import type { Ref } from "./schema";

/** The states of a setup still under way. */
export const OPEN: EntraSetup["status"][] = ["starting", "waiting", "planned", "applying"];

/** The setups of one target: a mailbox, or the tenant's default app registration. */
export const sameTarget = (ref: Ref) =>
  and(
    eq(entraSetups.tenantId, ref.tenantId),
    ref.mailboxId === null ? isNull(entraSetups.mailboxId) : eq(entraSetups.mailboxId, ref.mailboxId),
  );

export type EntraSetupView = Pick<
  EntraSetup,
  "id" | "status" | "userCode" | "verificationUri" | "admin" | "appName" | "appId" | "testId" | "kind"
> & {
  expiresAt: string | null;
  steps: { key: string; label: string; done: boolean; objectId?: string }[];
  diagnosis: Pick<Diagnosis, "code" | "cause" | "fix" | "setupStep" | "detail"> | null;
  /**
   * What Graph cannot do, once the app exists: the Exchange steps of the setup checklist with their
   * PowerShell for this app and mailbox, each ticked once the setup's test proves it.
   */
  exchange: Pick<ChecklistItem, "key" | "title" | "how" | "command" | "status">[];
  /**
   * The app registration this setup registered itself, once a later step failed: offered for
   * deletion (`deletable`) until it is deleted (`deletedAt`). Null when the setup made none.
   */
  createdApplication: { objectId: string; deletable: boolean; deletedAt: string | null } | null;
};

/**
 * The mailbox's setup the page shows again after a reload: one still under way, or one that ended
 * in the last ten minutes (so its outcome stays on the page once the mailbox has its ClientID).
 */
export async function recentEntraSetup(db: Db, ref: Ref, now = Date.now()): Promise<EntraSetupView | null> {
  const row = (await db.select().from(entraSetups).where(sameTarget(ref)).orderBy(desc(entraSetups.createdAt)))[0];
  if (!row) return null;
  const recent = OPEN.includes(row.status) || (row.finishedAt && now - row.finishedAt.getTime() < 10 * 60_000);
  return recent ? await toView(db, row) : null;
}

/**
 * The Enterprise application's object ID of the app a setup made for this mailbox (the one it uses
 * now), for the Exchange PowerShell of the setup checklist; undefined when no setup made it.
 */
export async function servicePrincipalOf(
  db: Db,
  mailbox: Pick<Mailbox, "id" | "azureClientId">,
): Promise<string | undefined> {
  if (!mailbox.azureClientId) return undefined;
  const row = (
    await db
      .select({ id: entraSetups.servicePrincipalId })
      .from(entraSetups)
      .where(and(eq(entraSetups.mailboxId, mailbox.id), eq(entraSetups.appId, mailbox.azureClientId)))
      .orderBy(desc(entraSetups.createdAt))
  )[0];
  return row?.id ?? undefined;
}

export async function rowOf(db: Db, id: string): Promise<EntraSetup> {
  return (await db.select().from(entraSetups).where(eq(entraSetups.id, id)))[0]!;
}

export async function toView(db: Db, row: EntraSetup): Promise<EntraSetupView> {
  const code = row.failureCode;
  const diagnosis = code
    ? diagnose(code in CATALOGUE ? (code as DiagnosisCode) : "UNEXPECTED", row.failureDetail ?? undefined)
    : null;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    userCode: row.status === "waiting" ? row.userCode : null,
    verificationUri: row.status === "waiting" ? row.verificationUri : null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    admin: row.admin,
    appName: row.appName,
    appId: row.appId,
    testId: row.testId,
    steps: row.steps ?? [],
    diagnosis: diagnosis && {
      code: code!,
      cause: diagnosis.cause,
      fix: diagnosis.fix,
      setupStep: diagnosis.setupStep,
      detail: diagnosis.detail,
    },
    exchange: await exchangeSteps(db, row),
    createdApplication: row.createdApplicationId
      ? {
          objectId: row.createdApplicationId,
          deletable: row.applicationDeletedAt === null && (row.status === "failed" || row.status === "applied"),
          deletedAt: row.applicationDeletedAt?.toISOString() ?? null,
        }
      : null,
  };
}

/** What only Exchange Online PowerShell can do, of the setup checklist. */
const EXCHANGE_STEPS: readonly string[] = [
  "exchange-app-access",
  "graph-app-scope",
  "exchange-smtp-auth",
  "exchange-imap",
];

/**
 * The Exchange steps for the app the setup made, from the setup checklist: for app-only, its service
 * principal in Exchange and the mailbox permission (with the Enterprise application's object ID
 * filled in), or for Microsoft Graph the RBAC for Applications scope; for every method over SMTP and
 * IMAP, SMTP AUTH and IMAP for the mailbox. Ticked by the setup's own test.
 */
async function exchangeSteps(db: Db, row: EntraSetup): Promise<EntraSetupView["exchange"]> {
  if (!row.mailboxId || !row.appId) return [];
  const mailbox = (await db.select().from(mailboxes).where(eq(mailboxes.id, row.mailboxId)))[0];
  if (!mailbox) return [];
  const test: MailboxTest | undefined = row.testId
    ? (await db.select().from(mailboxTests).where(eq(mailboxTests.id, row.testId)))[0]
    : undefined;
  const asSetUp: Mailbox = {
    ...mailbox,
    azureClientId: row.appId,
    azureTenantId: row.directoryId ?? row.directory,
    signInMethod: row.kind === "app" ? "app" : signInMethodWith(mailbox.signInMethod, row.appId),
  };
  return setupChecklist(asSetUp, test, { servicePrincipalId: row.servicePrincipalId ?? undefined })
    .filter((item) => EXCHANGE_STEPS.includes(item.key) && item.status !== "not-needed")
    .map(({ key, title, how, command, status }) => ({ key, title, how, command, status }));
}
