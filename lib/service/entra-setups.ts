import "server-only";
import { randomBytes } from "node:crypto";
import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { type EntraSetup, entraSetups, type Mailbox } from "@/db/schema";
import { recordAudit, recordMailboxAudit } from "@/lib/audit/log";
import { type Actor, actorLabel, type UserActor } from "@/lib/auth/actor";
import { decodeClaims } from "@/lib/engine/claims";
import { signInWithDeviceCode } from "@/lib/engine/device-code";
import { CATALOGUE, type Diagnosis, type DiagnosisCode, diagnose } from "@/lib/engine/diagnoses";
import {
  applySetup,
  diagnoseGraphError,
  type Graph,
  graphClient,
  type PlanStep,
  planSetup,
  type SetupRequest,
  setupScopes,
} from "@/lib/engine/entra-setup";
import { authorityHostFor, type CheckSettings, CLOUD_PROFILES, type Cloud } from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { describeError, NotFoundError } from "@/lib/errors";
import { getMailboxFor } from "@/lib/mailbox/queries";
import { saveEntraApp } from "@/lib/mailbox/save";
import { getTenantFor, saveTenantDefaults } from "@/lib/tenants/queries";
import { startMailboxTest, testToEnd } from "./mailbox-tests";
import type { Refusal } from "./refusals";
import { checkSettingsFor } from "./test-settings";

/** The tenant a personal Microsoft account signs in from: it holds no organisation's apps. */
const CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const PROMPT_WAIT_MS = 20_000;
const OPEN: EntraSetup["status"][] = ["starting", "waiting", "planned", "applying"];
/** Waits before testing a just-created app again (four tests within the per-mailbox limit of a minute). */
const PROPAGATION_WAITS_MS = [10_000, 20_000, 30_000];
const NOT_YET_PROPAGATED = new Set(["AADSTS700016", "AADSTS65001", "AADSTS7000218"]);

/** What the admin types to start: the organisation (a verified domain or the tenant ID) and the app's name. */
export const entraSetupStartSchema = z.object({
  directory: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|([a-z0-9-]+\.)+[a-z]{2,63})$/,
      "Enter your organisation's domain (contoso.onmicrosoft.com) or its Directory (tenant) ID.",
    )
    .max(253),
  appName: z.string().trim().min(1, "Name the app registration.").max(120, "Use at most 120 characters."),
});

/** What the setup is for: a mailbox, or (mailboxId null) the tenant's default app registration. */
type Ref = { tenantId: number; mailboxId: number | null };
type Target = { tenantId: number; mailbox: Mailbox | null; cloud: Cloud };

/** The setup's target as the actor may see it; another tenant's mailbox is as missing as none. */
function targetOf(db: Db, actor: UserActor, ref: Ref): Target {
  if (ref.mailboxId !== null) {
    const mailbox = getMailboxFor(db, actor, ref.tenantId, ref.mailboxId);
    return { tenantId: mailbox.tenantId, mailbox, cloud: mailbox.cloud };
  }
  const tenant = getTenantFor(db, actor, ref.tenantId);
  return { tenantId: tenant.id, mailbox: null, cloud: tenant.defaultCloud ?? "global" };
}

const sameTarget = (ref: Ref) =>
  and(
    eq(entraSetups.tenantId, ref.tenantId),
    ref.mailboxId === null ? isNull(entraSetups.mailboxId) : eq(entraSetups.mailboxId, ref.mailboxId),
  );

/** The Graph token of each setup, in this process's memory only, for the hour it lasts. */
const globalTokens = globalThis as unknown as { navigatorSetupTokens?: Map<string, { token: string; until: number }> };
globalTokens.navigatorSetupTokens ??= new Map();
const tokens = globalTokens.navigatorSetupTokens;

export type EntraSetupView = Pick<
  EntraSetup,
  "id" | "status" | "userCode" | "verificationUri" | "admin" | "appName" | "appId" | "testId" | "kind"
> & {
  expiresAt: string | null;
  steps: { key: string; label: string; done: boolean; objectId?: string }[];
  diagnosis: Pick<Diagnosis, "code" | "cause" | "fix" | "setupStep" | "detail"> | null;
};

/**
 * "Set up in Microsoft Entra for me": the admin signs in with a device code (ENTRA_SETUP_CLIENT_ID,
 * only the Graph scopes the setup needs), and the plan is made from what the tenant holds. Resolves
 * as soon as Entra gives the code; the sign-in and the plan go on in this process.
 */
export async function startEntraSetup(
  db: Db,
  actor: UserActor,
  ref: Ref,
  input: { directory: string; appName: string },
): Promise<{ ok: true; setup: EntraSetupView } | { ok: false; refusal: Refusal }> {
  const target = targetOf(db, actor, ref);
  if (target.mailbox?.signInMethod === "app") {
    const message =
      "The one-click setup registers apps for the password and Microsoft sign-in methods; for app-only, follow the setup checklist.";
    return { ok: false, refusal: { kind: "invalid", message, fieldErrors: {} } };
  }
  // Looked for and written in one write transaction: pressing the button twice, in any process,
  // shows the setup already under way, so there are never two apps.
  const opened = db.transaction((tx) => {
    const open = tx
      .select()
      .from(entraSetups)
      .where(and(sameTarget(ref), inArray(entraSetups.status, OPEN)))
      .get();
    if (open && (open.expiresAt?.getTime() ?? Date.now() + 1) > Date.now()) return { open };
    const row = tx
      .insert(entraSetups)
      .values({
        id: randomBytes(18).toString("base64url"),
        tenantId: target.tenantId,
        mailboxId: target.mailbox?.id ?? null,
        kind: "delegated",
        appName: input.appName,
        directory: input.directory,
        status: "starting",
        startedBy: actorLabel(actor),
        createdAt: new Date(),
      })
      .returning()
      .get();
    return { row };
  });
  if (opened.open) return { ok: true, setup: toView(opened.open) };
  const { row } = opened;
  let prompted!: () => void;
  const shown = new Promise<void>((resolve) => {
    prompted = resolve;
  });
  void signInAndPlan(db, target, row, prompted).catch((error: unknown) => {
    console.error("entra setup failed unexpectedly:", describeError(error));
    fail(db, row.id, diagnose("UNEXPECTED"));
    prompted();
  });
  await Promise.race([shown, new Promise((resolve) => setTimeout(resolve, PROMPT_WAIT_MS).unref())]);
  return { ok: true, setup: toView(rowOf(db, row.id)) };
}

function graphHostFor(cloud: Cloud): string {
  return (getEnv().ENTRA_GRAPH_HOST ?? CLOUD_PROFILES[cloud].graphHost).replace(/\/+$/, "");
}

async function signInAndPlan(db: Db, target: Target, row: EntraSetup, prompted: () => void): Promise<void> {
  const env = getEnv();
  // The setup's own public client at the organisation's directory; nothing of a mailbox is sent.
  const settings: CheckSettings = {
    type: "smtp_imap",
    login: "",
    password: null,
    smtpHost: null,
    smtpPort: null,
    imapHost: null,
    imapPort: null,
    useTls: true,
    azureClientId: env.ENTRA_SETUP_CLIENT_ID,
    azureTenantId: row.directory,
    cloud: target.cloud,
  };
  const end = await signInWithDeviceCode({
    settings,
    authorityHost: authorityHostFor(settings, env.ENTRA_AUTHORITY_HOST),
    // Graph's own resource identifier, whichever host the requests go to.
    scopes: setupScopes(CLOUD_PROFILES[target.cloud].graphHost, row.kind === "app"),
    onPrompt(prompt) {
      const uri = /^https:\/\//i.test(prompt.verificationUri) ? prompt.verificationUri : null;
      db.update(entraSetups)
        .set({ status: "waiting", userCode: prompt.userCode, verificationUri: uri, expiresAt: prompt.expiresAt })
        .where(eq(entraSetups.id, row.id))
        .run();
      prompted();
    },
  });
  prompted();
  if (!end.ok) return fail(db, row.id, end.diagnosis);
  // Just received from Entra over TLS: read, not verified (Graph verifies it on every call).
  const claims = decodeClaims(end.accessToken) ?? {};
  if (claims.acct === 1 || claims.tid === CONSUMER_TENANT) {
    return fail(db, row.id, diagnose("SETUP_NOT_MEMBER", `Signed in as ${end.account}.`));
  }
  tokens.set(row.id, { token: end.accessToken, until: Date.now() + 55 * 60_000 });
  db.update(entraSetups)
    .set({ admin: end.account, directoryId: claims.tid ?? null })
    .where(eq(entraSetups.id, row.id))
    .run();
  try {
    const plan = await planSetup(graphFor(target.cloud, row.id), requestOf(rowOf(db, row.id)));
    db.update(entraSetups)
      .set({ status: "planned", steps: plan.steps, appId: plan.application?.appId ?? null })
      .where(eq(entraSetups.id, row.id))
      .run();
  } catch (error) {
    fail(db, row.id, diagnoseGraphError(error));
  }
}

function graphFor(cloud: Cloud, id: string): Graph {
  const held = tokens.get(id);
  if (!held || held.until < Date.now()) throw new SignedOut();
  return graphClient(graphHostFor(cloud), held.token);
}

class SignedOut extends Error {}

function requestOf(row: EntraSetup): SetupRequest {
  return { appName: row.appName, kind: row.kind, admin: row.admin ?? "" };
}

/**
 * The admin confirmed the plan: each step is done (and audited with Graph's object IDs), then the new
 * app is proven with a test of the mailbox's settings with its ClientID and TenantID, unsaved. Only a
 * passed test writes them into the mailbox. A failure leaves the plan to resume.
 */
export async function confirmEntraSetup(
  db: Db,
  actor: UserActor,
  ref: Ref,
  id: string,
  options: { propagationWaitsMs: number[] } = { propagationWaitsMs: PROPAGATION_WAITS_MS },
): Promise<EntraSetupView> {
  const target = targetOf(db, actor, ref);
  const { mailbox } = target;
  const taken = db
    .update(entraSetups)
    .set({ status: "applying", failureCode: null, failureDetail: null })
    .where(and(eq(entraSetups.id, id), sameTarget(ref), inArray(entraSetups.status, ["planned", "failed", "applied"])))
    .returning()
    .get();
  if (!taken) return getEntraSetup(db, actor, ref, id);
  const steps = [...(taken.steps ?? [])];
  let graph: Graph;
  try {
    graph = graphFor(target.cloud, id);
  } catch {
    fail(db, id, diagnose("SETUP_SIGNED_OUT"));
    return getEntraSetup(db, actor, ref, id);
  }
  let appId: string;
  try {
    const objects = await applySetup(graph, requestOf(taken), (step: PlanStep, objectId: string) => {
      const at = steps.findIndex((s) => s.key === step.key);
      if (at >= 0) steps[at] = { ...steps[at]!, done: true, objectId };
      db.update(entraSetups).set({ steps }).where(eq(entraSetups.id, id)).run();
      const changes = { step: { to: step.label }, objectId: { to: objectId } };
      if (mailbox) recordMailboxAudit(db, actor, mailbox, "mailbox.entra_setup", changes);
      else
        recordAudit(db, actor, {
          tenantId: target.tenantId,
          action: "tenant.entra_setup",
          targetType: "tenant",
          targetId: target.tenantId,
          targetLabel: taken.appName,
          changes,
        });
    });
    appId = objects.appId;
    const done = steps.map((s) => ({ ...s, done: true }));
    db.update(entraSetups).set({ steps: done, appId }).where(eq(entraSetups.id, id)).run();
  } catch (error) {
    fail(db, id, diagnoseGraphError(error));
    return getEntraSetup(db, actor, ref, id);
  }
  const directoryId = rowOf(db, id).directoryId ?? taken.directory;
  const app = { azureClientId: appId, azureTenantId: directoryId };
  if (!mailbox) {
    // The tenant's default: new mailboxes start from it, and each proves it with its first test.
    saveTenantDefaults(db, actor, { tenantId: target.tenantId, ...app, cloud: target.cloud });
    finishSetup(db, id, "done");
    return getEntraSetup(db, actor, ref, id);
  }
  const at = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
  if (mailbox.signInMethod === "device") {
    // A Microsoft sign-in can only follow the app: the app is written in, and the next step is the sign-in.
    saveEntraApp(db, actor, { ...at, version: mailbox.version }, app);
    finishSetup(db, id, "done");
    return getEntraSetup(db, actor, ref, id);
  }
  const settings = { ...checkSettingsFor(mailbox), ...app };
  let result: Awaited<ReturnType<typeof testToEnd>> | null = null;
  for (const wait of [0, ...options.propagationWaitsMs]) {
    // A new app takes a while to reach every Entra replica: until then its sign-in is refused as
    // unknown (AADSTS700016), without consent (65001) or public client flows (7000218). Wait and retry.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = startMailboxTest(db, actor, { ...at, source: "form", settings });
    if (!started.ok) {
      fail(db, id, diagnose("SETUP_GRAPH_ERROR", started.refusal.message), "applied");
      return getEntraSetup(db, actor, ref, id);
    }
    result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant: "" });
    db.update(entraSetups).set({ testId: result.testId }).where(eq(entraSetups.id, id)).run();
    const code = result.steps.find((s) => s.status === "failed")?.diagnosis?.code;
    if (result.ok || !code || !NOT_YET_PROPAGATED.has(code)) break;
  }
  if (!result?.ok) {
    const failedStep = result?.steps.find((s) => s.status === "failed");
    fail(db, id, failedStep?.diagnosis ?? diagnose("UNEXPECTED"), "applied");
    return getEntraSetup(db, actor, ref, id);
  }
  saveEntraApp(db, actor, { ...at, version: mailbox.version }, app);
  finishSetup(db, id, "done");
  return getEntraSetup(db, actor, ref, id);
}

function finishSetup(db: Db, id: string, status: EntraSetup["status"]): void {
  tokens.delete(id);
  db.update(entraSetups).set({ status, finishedAt: new Date() }).where(eq(entraSetups.id, id)).run();
}

function fail(db: Db, id: string, diagnosis: Diagnosis, status: EntraSetup["status"] = "failed"): void {
  db.update(entraSetups)
    .set({ status, failureCode: diagnosis.code, failureDetail: diagnosis.detail ?? null, finishedAt: new Date() })
    .where(eq(entraSetups.id, id))
    .run();
}

/**
 * The mailbox's setup the page shows again after a reload: one still under way, or one that ended
 * in the last ten minutes (so its outcome stays on the page once the mailbox has its ClientID).
 */
export function recentEntraSetup(db: Db, ref: Ref, now = Date.now()): EntraSetupView | null {
  const row = db.select().from(entraSetups).where(sameTarget(ref)).orderBy(desc(entraSetups.createdAt)).get();
  if (!row) return null;
  const recent = OPEN.includes(row.status) || (row.finishedAt && now - row.finishedAt.getTime() < 10 * 60_000);
  return recent ? toView(row) : null;
}

export function getEntraSetup(db: Db, actor: UserActor, ref: Ref, id: string): EntraSetupView {
  targetOf(db, actor, ref);
  const row = db
    .select()
    .from(entraSetups)
    .where(and(eq(entraSetups.id, id), sameTarget(ref)))
    .get();
  if (!row) throw new NotFoundError();
  return toView(row);
}

function rowOf(db: Db, id: string): EntraSetup {
  return db.select().from(entraSetups).where(eq(entraSetups.id, id)).get()!;
}

function toView(row: EntraSetup): EntraSetupView {
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
  };
}
