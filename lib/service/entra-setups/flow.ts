import "server-only";
import { randomBytes, X509Certificate } from "node:crypto";
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { z } from "zod";
import { type Db, transaction } from "@/db/client";
import { type EntraSetup, entraSetups, type Mailbox } from "@/db/schema";
import { recordAudit, recordMailboxAudit } from "@/lib/audit/log";
import { actorLabel, type UserActor } from "@/lib/auth/actor";
import { open, SealError, seal, sealingContext } from "@/lib/crypto/seal";
import { decodeClaims } from "@/lib/engine/claims";
import { signInWithDeviceCode } from "@/lib/engine/device-code";
import { type Diagnosis, diagnose } from "@/lib/engine/diagnoses";
import {
  applySetup,
  deleteApplication,
  diagnoseGraphError,
  type Graph,
  graphClient,
  lacksSetupRole,
  type PlanStep,
  planSetup,
  SETUP_ROLES,
  type SetupRequest,
  setupScopes,
} from "@/lib/engine/entra-setup";
import {
  authorityHostFor,
  type CheckSettings,
  CLOUD_PROFILES,
  type Cloud,
  graphHostFor,
  signInMethodWith,
} from "@/lib/engine/settings";
import { getEnv } from "@/lib/env";
import { describeError, NotFoundError, UserError } from "@/lib/errors";
import { generateCertificate } from "@/lib/mailbox/certificate";
import { getMailboxFor, getMailboxToChange } from "@/lib/mailbox/queries";
import { saveEntraApp } from "@/lib/mailbox/save";
import { admitDirectory, loginDomain } from "@/lib/tenants/directories";
import { getTenantFor, saveTenantDefaults } from "@/lib/tenants/queries";
import { startMailboxTest, testToEnd } from "../mailbox-tests";
import type { Refusal } from "../refusals";
import { checkSettingsFor } from "../test-settings";
import { limitsRefusal } from "./limits";
import type { entraSetupStartSchema, Ref } from "./schema";
import { type EntraSetupView, OPEN, rowOf, sameTarget, toView } from "./view";

/** The tenant a personal Microsoft account signs in from: it holds no organisation's apps. */
const CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const PROMPT_WAIT_MS = 20_000;
/** Waits before testing a just-created app again (four tests within the per-mailbox limit of a minute). */
const PROPAGATION_WAITS_MS = [10_000, 20_000, 30_000];
const NOT_YET_PROPAGATED = new Set(["AADSTS700016", "AADSTS65001", "AADSTS7000218", "AADSTS700027"]);

type Target = { tenantId: number; mailbox: Mailbox | null; cloud: Cloud };

/** The setup's target as the actor may see it; another tenant's mailbox is as missing as none. */
async function targetOf(db: Db, actor: UserActor, ref: Ref, change = false): Promise<Target> {
  if (ref.mailboxId !== null) {
    const mailbox = await (change ? getMailboxToChange : getMailboxFor)(db, actor, ref.tenantId, ref.mailboxId);
    return { tenantId: mailbox.tenantId, mailbox, cloud: mailbox.cloud };
  }
  const tenant = await getTenantFor(db, actor, ref.tenantId);
  return { tenantId: tenant.id, mailbox: null, cloud: tenant.defaultCloud ?? "global" };
}

/** The private key of the certificate a setup made, bound to its setup row until it moves into the mailbox. */
export const setupKeyContext = (row: Pick<EntraSetup, "tenantId" | "id">) =>
  sealingContext({ tenantId: row.tenantId, table: "entra_setups", rowId: row.id, field: "private_key" });

/** The admin's Graph token, bound to its setup row; erased when the setup ends. */
export const setupTokenContext = (row: Pick<EntraSetup, "tenantId" | "id">) =>
  sealingContext({ tenantId: row.tenantId, table: "entra_setups", rowId: row.id, field: "graph_token" });

/** Graph tokens last an hour; the setup stops using one a little before. */
const GRAPH_TOKEN_USE_MS = 55 * 60_000;
const ERASED_TOKEN = { graphTokenSealed: null, graphTokenUntil: null };

/**
 * "Set up in Microsoft Entra for me": the admin signs in with a device code (ENTRA_SETUP_CLIENT_ID,
 * only the Graph scopes the setup needs), and the plan is made from what the tenant holds. Resolves
 * as soon as Entra gives the code; the sign-in and the plan go on in this process.
 */
export async function startEntraSetup(
  db: Db,
  actor: UserActor,
  ref: Ref,
  input: z.infer<typeof entraSetupStartSchema>,
): Promise<{ ok: true; setup: EntraSetupView } | { ok: false; refusal: Refusal }> {
  const target = await targetOf(db, actor, ref, true);
  // App-only gets application permissions and a new certificate; the others, delegated permissions.
  const kind = input.kind ?? (target.mailbox?.signInMethod === "app" ? "app" : "delegated");
  if (kind === "app" && !target.mailbox) {
    const message =
      "The tenant's default app registration is for delegated sign-in; set up app-only from the mailbox, which keeps the certificate.";
    return { ok: false, refusal: { kind: "invalid", message, fieldErrors: { kind: [message] } } };
  }
  // The key pair is made before the write transaction, which it would otherwise hold for its making.
  const id = randomBytes(18).toString("base64url");
  const certificate =
    kind === "app" && target.mailbox ? generateCertificate(`Navigator Mail ${target.mailbox.name}`) : null;
  // Looked for and written in one write transaction: pressing the button twice, in any process,
  // shows the setup already under way, so there are never two apps.
  const opened = await transaction(db, async (tx) => {
    const open = (
      await tx
        .select()
        .from(entraSetups)
        .where(and(sameTarget(ref), inArray(entraSetups.status, OPEN)))
    )[0];
    if (open && (open.expiresAt?.getTime() ?? Date.now() + 1) > Date.now()) return { open };
    const refusal = await limitsRefusal(tx, target.tenantId);
    if (refusal) return { refusal };
    const row = (
      await tx
        .insert(entraSetups)
        .values({
          id,
          tenantId: target.tenantId,
          mailboxId: target.mailbox?.id ?? null,
          kind,
          transport: target.mailbox?.transport ?? "smtp_imap",
          cloud: target.mailbox ? target.cloud : (input.cloud ?? target.cloud),
          certificatePem: certificate?.certificatePem ?? null,
          privateKeySealed: certificate
            ? seal(certificate.privateKeyPem, setupKeyContext({ tenantId: target.tenantId, id }))
            : null,
          appName: input.appName,
          directory: input.directory,
          status: "starting",
          startedBy: actorLabel(actor),
          createdAt: new Date(),
        })
        .returning()
    )[0]!;
    return { row };
  });
  if (opened.open) return { ok: true, setup: await toView(db, opened.open) };
  if (opened.refusal) return { ok: false, refusal: opened.refusal };
  const { row } = opened;
  let prompted!: () => void;
  const shown = new Promise<void>((resolve) => {
    prompted = resolve;
  });
  void signInAndPlan(db, actor, row, prompted).catch(async (error: unknown) => {
    console.error("entra setup failed unexpectedly:", describeError(error));
    await fail(db, row.id, diagnose("UNEXPECTED"));
    prompted();
  });
  await Promise.race([shown, new Promise((resolve) => setTimeout(resolve, PROMPT_WAIT_MS).unref())]);
  return { ok: true, setup: await toView(db, await rowOf(db, row.id)) };
}

async function signInAndPlan(db: Db, actor: UserActor, row: EntraSetup, prompted: () => void): Promise<void> {
  const env = getEnv();
  // The setup's own public client at the organisation's directory; nothing of a mailbox is sent.
  const settings: CheckSettings = {
    type: "smtp_imap",
    transport: "smtp_imap",
    login: "",
    password: null,
    smtpHost: null,
    smtpPort: null,
    imapHost: null,
    imapPort: null,
    useTls: true,
    azureClientId: env.ENTRA_SETUP_CLIENT_ID,
    signInMethod: "device",
    azureTenantId: row.directory,
    cloud: row.cloud,
  };
  const end = await signInWithDeviceCode({
    settings,
    authorityHost: authorityHostFor(settings, env.ENTRA_AUTHORITY_HOST),
    // Graph's own resource identifier, whichever host the requests go to.
    scopes: setupScopes(CLOUD_PROFILES[row.cloud].graphHost, row.kind === "app"),
    async onPrompt(prompt) {
      const uri = /^https:\/\//i.test(prompt.verificationUri) ? prompt.verificationUri : null;
      await db
        .update(entraSetups)
        .set({ status: "waiting", userCode: prompt.userCode, verificationUri: uri, expiresAt: prompt.expiresAt })
        .where(eq(entraSetups.id, row.id));
      prompted();
    },
  });
  prompted();
  if (!end.ok) return fail(db, row.id, setupSignInDiagnosis(end.diagnosis));
  // Just received from Entra over TLS: read, not verified (Graph verifies it on every call).
  const claims = decodeClaims(end.accessToken) ?? {};
  if (claims.acct === 1 || claims.tid === CONSUMER_TENANT) {
    return fail(db, row.id, diagnose("SETUP_NOT_MEMBER", `Signed in as ${end.account}.`));
  }
  // Checked before the plan, and so before anything is written in the organisation: members may
  // register apps by default, so without a role that may consent an app would be registered and then
  // left behind when consent is refused.
  const graph = graphClient(graphHostFor(row, getEnv().ENTRA_GRAPH_HOST), end.accessToken);
  const lacksRole = await lacksSetupRole(graph, claims.wids);
  if (lacksRole) {
    const roles = Object.values(SETUP_ROLES).join(", ");
    return fail(
      db,
      row.id,
      diagnose("SETUP_ROLE_MISSING", `Signed in as ${end.account}, who holds none of these roles: ${roles}.`),
    );
  }
  // The organisation must be the tenant's own (the first sign-in binds an unbound tenant).
  const admin = { tid: claims.tid, domains: [loginDomain(end.account), row.directory] };
  if (!(await admitDirectory(db, actor, row.tenantId, admin))) {
    return fail(db, row.id, diagnose("DIRECTORY_NOT_ALLOWED", `Signed in as ${end.account}, tid = ${claims.tid}.`));
  }
  // Sealed in the setup's row, so the confirm works in whichever portal process it reaches.
  await db
    .update(entraSetups)
    .set({
      admin: end.account,
      directoryId: claims.tid ?? null,
      graphTokenSealed: seal(end.accessToken, setupTokenContext(row)),
      graphTokenUntil: new Date(Date.now() + GRAPH_TOKEN_USE_MS),
    })
    .where(eq(entraSetups.id, row.id));
  try {
    const mailbox = row.mailboxId === null ? null : await getMailboxToChange(db, actor, row.tenantId, row.mailboxId);
    const plan = await planSetup(graph, requestOf(await rowOf(db, row.id), mailbox));
    await db
      .update(entraSetups)
      .set({ status: "planned", steps: plan.steps, appId: plan.application?.appId ?? null })
      .where(eq(entraSetups.id, row.id));
  } catch (error) {
    await fail(db, row.id, diagnoseGraphError(error));
  }
}

/** What a refused setup sign-in means for the setup, in its own words where it has them. */
function setupSignInDiagnosis(diagnosis: Diagnosis): Diagnosis {
  // A personal Microsoft account (or any account the organisation does not hold).
  if (diagnosis.code === "AADSTS50020") return diagnose("SETUP_NOT_MEMBER", diagnosis.detail);
  // The directory does not know the chosen cloud's Graph: it lives in another cloud.
  if (diagnosis.code === "AADSTS500011" && /graph/i.test(diagnosis.detail ?? ""))
    return diagnose("SETUP_WRONG_CLOUD", diagnosis.detail);
  return diagnosis;
}

/** Graph as the admin who signed in to the setup; null once the token is gone, past its use (then erased) or unreadable. */
async function graphFor(db: Db, row: EntraSetup): Promise<Graph | null> {
  if (!row.graphTokenSealed || !row.graphTokenUntil) return null;
  if (row.graphTokenUntil.getTime() < Date.now()) {
    await db.update(entraSetups).set(ERASED_TOKEN).where(eq(entraSetups.id, row.id));
    return null;
  }
  try {
    return graphClient(
      graphHostFor(row, getEnv().ENTRA_GRAPH_HOST),
      open(row.graphTokenSealed, setupTokenContext(row)),
    );
  } catch (error) {
    // Sealed for another row (copied) or with a key no longer configured: the admin signs in again.
    if (error instanceof SealError) return null;
    throw error;
  }
}

/** The setup's request, from its row and the mailbox as it is now (its identities decide Graph's scopes). */
function requestOf(row: EntraSetup, mailbox: Mailbox | null): SetupRequest {
  const request: SetupRequest = {
    appName: row.appName,
    kind: row.kind,
    transport: row.transport,
    admin: row.admin ?? "",
    ...(mailbox ? { identities: mailbox } : {}),
  };
  if (!row.certificatePem) return request;
  // Entra names a certificate by its SHA-1 thumbprint and takes its DER, base64.
  const certificate = new X509Certificate(row.certificatePem);
  return {
    ...request,
    certificate: {
      der: certificate.raw.toString("base64"),
      thumbprint: certificate.fingerprint.replaceAll(":", ""),
      notAfter: new Date(certificate.validTo),
    },
  };
}

/**
 * The admin confirmed the plan: each step is done (and audited with Graph's object IDs), then the new
 * app is proven with a test of the mailbox's settings with its ClientID and TenantID, unsaved. Only a
 * passed test writes them into the mailbox. A failure leaves the plan to resume; once every Graph step
 * is done, pressing again only tests (the Exchange steps of app-only are the admin's, in PowerShell).
 */
export async function confirmEntraSetup(
  db: Db,
  actor: UserActor,
  ref: Ref,
  id: string,
  options: { propagationWaitsMs: number[] } = { propagationWaitsMs: PROPAGATION_WAITS_MS },
): Promise<EntraSetupView> {
  const target = await targetOf(db, actor, ref, true);
  const { mailbox } = target;
  // A setup that ended before its plan (a refused sign-in, a missing role) has nothing to confirm.
  const planned = await getEntraSetup(db, actor, ref, id);
  if (planned.steps.length === 0) return planned;
  const taken = (
    await db
      .update(entraSetups)
      .set({ status: "applying", failureCode: null, failureDetail: null })
      .where(
        and(eq(entraSetups.id, id), sameTarget(ref), inArray(entraSetups.status, ["planned", "failed", "applied"])),
      )
      .returning()
  )[0];
  if (!taken) return getEntraSetup(db, actor, ref, id);
  const applied = taken.appId !== null && (taken.steps ?? []).length > 0 && (taken.steps ?? []).every((s) => s.done);
  if (!applied && !(await applyPlan(db, actor, target, taken))) return getEntraSetup(db, actor, ref, id);
  const row = await rowOf(db, id);
  const app = { azureClientId: row.appId!, azureTenantId: row.directoryId ?? row.directory };
  if (!mailbox) {
    // The tenant's default: new mailboxes start from it, and each proves it with its first test.
    await saveTenantDefaults(db, actor, { tenantId: target.tenantId, ...app, cloud: row.cloud });
    await finishSetup(db, id, "done");
    return getEntraSetup(db, actor, ref, id);
  }
  const at = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
  if (mailbox.signInMethod === "device") {
    // A Microsoft sign-in can only follow the app: the app is written in, and the next step is the sign-in.
    await saveEntraApp(db, actor, { ...at, version: mailbox.version }, app);
    await finishSetup(db, id, "done");
    return getEntraSetup(db, actor, ref, id);
  }
  const certificate = row.certificatePem
    ? { certificatePem: row.certificatePem, privateKeyPem: open(row.privateKeySealed!, setupKeyContext(row)) }
    : null;
  const stored = checkSettingsFor(mailbox);
  const settings = {
    ...stored,
    ...app,
    signInMethod: signInMethodWith(stored.signInMethod, app.azureClientId),
    // App-only signs in as the app with the new certificate, whatever the mailbox did before.
    ...(certificate
      ? {
          signInMethod: "app" as const,
          password: null,
          appCredential: { kind: "certificate" as const, ...certificate },
        }
      : {}),
  };
  // Only the first press waits for the new app to reach Entra's servers; a later one tests once.
  const waits = taken.testId === null ? options.propagationWaitsMs : [];
  let result: Awaited<ReturnType<typeof testToEnd>> | null = null;
  for (const wait of [0, ...waits]) {
    // A new app takes a while to reach every Entra replica: until then its sign-in is refused as
    // unknown (AADSTS700016), without consent (65001), public client flows (7000218) or its
    // certificate (700027). Wait and retry.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = await startMailboxTest(db, actor, { ...at, source: "form", settings });
    if (!started.ok) {
      await fail(db, id, diagnose("SETUP_GRAPH_ERROR", started.refusal.message), "applied");
      return getEntraSetup(db, actor, ref, id);
    }
    result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant: "" });
    await db.update(entraSetups).set({ testId: result.testId }).where(eq(entraSetups.id, id));
    const code = result.steps.find((s) => s.status === "failed")?.diagnosis?.code;
    if (result.ok || !code || !NOT_YET_PROPAGATED.has(code)) break;
  }
  if (!result?.ok) {
    const failedStep = result?.steps.find((s) => s.status === "failed");
    await fail(db, id, failedStep?.diagnosis ?? diagnose("UNEXPECTED"), "applied");
    return getEntraSetup(db, actor, ref, id);
  }
  await saveEntraApp(db, actor, { ...at, version: mailbox.version }, app, certificate ?? undefined);
  // The key now lives in the mailbox, sealed to it; the setup keeps only the public certificate.
  await db.update(entraSetups).set({ privateKeySealed: null }).where(eq(entraSetups.id, id));
  await finishSetup(db, id, "done");
  return getEntraSetup(db, actor, ref, id);
}

/** The Graph half: the plan's steps done in order, each audited with its object ID. False when it failed. */
async function applyPlan(db: Db, actor: UserActor, target: Target, taken: EntraSetup): Promise<boolean> {
  const { mailbox } = target;
  const steps = [...(taken.steps ?? [])];
  const graph = await graphFor(db, taken);
  if (!graph) {
    await fail(db, taken.id, diagnose("SETUP_SIGNED_OUT"));
    return false;
  }
  try {
    const objects = await applySetup(
      graph,
      requestOf(taken, mailbox),
      async (step: PlanStep, objectId: string, created) => {
        const at = steps.findIndex((s) => s.key === step.key);
        if (at >= 0) steps[at] = { ...steps[at]!, done: true, objectId };
        await db
          .update(entraSetups)
          .set({ steps, ...(created ? { createdApplicationId: objectId } : {}) })
          .where(eq(entraSetups.id, taken.id));
        const changes = { step: { to: step.label }, objectId: { to: objectId } };
        if (mailbox) await recordMailboxAudit(db, actor, mailbox, "mailbox.entra_setup", changes);
        else
          await recordAudit(db, actor, {
            tenantId: target.tenantId,
            action: "tenant.entra_setup",
            targetType: "tenant",
            targetId: target.tenantId,
            targetLabel: taken.appName,
            changes,
          });
      },
    );
    await db
      .update(entraSetups)
      .set({
        steps: steps.map((s) => ({ ...s, done: true })),
        appId: objects.appId,
        servicePrincipalId: objects.servicePrincipalId,
      })
      .where(eq(entraSetups.id, taken.id));
    return true;
  } catch (error) {
    await fail(db, taken.id, diagnoseGraphError(error));
    return false;
  }
}

async function finishSetup(db: Db, id: string, status: EntraSetup["status"]): Promise<void> {
  await db
    .update(entraSetups)
    .set({ status, finishedAt: new Date(), ...ERASED_TOKEN })
    .where(eq(entraSetups.id, id));
}

/**
 * Ends the setup as failed. The Graph token is erased, unless the setup registered an app: deleting
 * that app ("Delete the app the setup created") needs the same sign-in, for as long as the token lasts.
 */
async function fail(db: Db, id: string, diagnosis: Diagnosis, status: EntraSetup["status"] = "failed"): Promise<void> {
  const keptForDelete = (column: SQL) =>
    sql`CASE WHEN ${entraSetups.createdApplicationId} IS NULL THEN NULL ELSE ${column} END`;
  await db
    .update(entraSetups)
    .set({
      status,
      failureCode: diagnosis.code,
      failureDetail: diagnosis.detail ?? null,
      finishedAt: new Date(),
      graphTokenSealed: keptForDelete(sql`${entraSetups.graphTokenSealed}`),
      graphTokenUntil: keptForDelete(sql`${entraSetups.graphTokenUntil}`),
    })
    .where(eq(entraSetups.id, id));
}

/** The setup of this target, or NotFoundError: another target's setup is as missing as none. */
async function setupOf(db: Db, ref: Ref, id: string): Promise<EntraSetup> {
  const row = (
    await db
      .select()
      .from(entraSetups)
      .where(and(eq(entraSetups.id, id), sameTarget(ref)))
  )[0];
  if (!row) throw new NotFoundError();
  return row;
}

export async function getEntraSetup(db: Db, actor: UserActor, ref: Ref, id: string): Promise<EntraSetupView> {
  await targetOf(db, actor, ref);
  const row = await setupOf(db, ref, id);
  return toView(db, row);
}

/**
 * "Delete the app the setup created": offered once a setup that registered an app failed, and not
 * before it is done. The app goes with its service principal and consent, through the setup's own
 * sign-in (Graph judges the right to delete); audited with the app's IDs. A setup that did not create
 * the app, or one already finished, is refused.
 */
export async function deleteCreatedApplication(
  db: Db,
  actor: UserActor,
  ref: Ref,
  id: string,
): Promise<EntraSetupView> {
  const target = await targetOf(db, actor, ref, true);
  const row = await setupOf(db, ref, id);
  const deletable =
    row.createdApplicationId !== null &&
    row.applicationDeletedAt === null &&
    ["failed", "applied"].includes(row.status);
  if (!deletable) throw new UserError("This setup has no app of its own to delete.");
  const graph = await graphFor(db, row);
  if (!graph) {
    await fail(db, row.id, diagnose("SETUP_SIGNED_OUT"), row.status);
    return getEntraSetup(db, actor, ref, id);
  }
  try {
    await deleteApplication(graph, row.createdApplicationId!);
  } catch (error) {
    await fail(db, row.id, diagnoseGraphError(error), row.status);
    return getEntraSetup(db, actor, ref, id);
  }
  const changes = {
    deletedApplication: { from: row.createdApplicationId, to: null },
    appId: { from: row.appId, to: null },
  };
  if (target.mailbox) await recordMailboxAudit(db, actor, target.mailbox, "mailbox.entra_setup_deleted", changes);
  else
    await recordAudit(db, actor, {
      tenantId: target.tenantId,
      action: "tenant.entra_setup_deleted",
      targetType: "tenant",
      targetId: target.tenantId,
      targetLabel: row.appName,
      changes,
    });
  await db
    .update(entraSetups)
    .set({
      ...ERASED_TOKEN,
      status: "failed",
      applicationDeletedAt: new Date(),
      steps: (row.steps ?? []).map(({ key, label }) => ({ key, label, done: false })),
      appId: null,
      servicePrincipalId: null,
      finishedAt: new Date(),
    })
    .where(eq(entraSetups.id, row.id));
  return getEntraSetup(db, actor, ref, id);
}
