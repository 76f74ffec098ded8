import "server-only";
import { randomBytes } from "node:crypto";
import { and, count, desc, eq, gt, inArray, lt } from "drizzle-orm";
import { type Db, type Queryable, transaction } from "@/db/client";
import { type DeviceSignIn, deviceSignIns, type Mailbox, mailboxes, users } from "@/db/schema";
import { recordMailboxAudit } from "@/lib/audit/log";
import { type Actor, actorLabel, actorUserId, userActorOf } from "@/lib/auth/actor";
import { open, seal, sealingContext } from "@/lib/crypto/seal";
import { decodeClaims } from "@/lib/engine/claims";
import { memoryTokenCache } from "@/lib/engine/credentials";
import { type DeviceCodePrompt, type DeviceSignInEnd, signInWithDeviceCode } from "@/lib/engine/device-code";
import { CATALOGUE, type Diagnosis, type DiagnosisCode, diagnose } from "@/lib/engine/diagnoses";
import type { CheckSettings } from "@/lib/engine/settings";
import { describeError, NotFoundError } from "@/lib/errors";
import { getMailboxFor, getMailboxToChange } from "@/lib/mailbox/queries";
import { moveToMicrosoftSignIn, recordFailedMove } from "@/lib/mailbox/save";
import { storeSignedInCache } from "@/lib/mailbox/token-cache-store";
import { admitDirectory, loginDomain } from "@/lib/tenants/directories";
import { startMailboxTest, testToEnd } from "./mailbox-tests";
import type { Refusal } from "./refusals";
import { checkOptionsFor, checkSettingsFor } from "./test-settings";

/** Each sign-in polls Entra for up to 15 minutes: caps keep one tenant from holding the portal's pollers. */
export const SIGN_IN_LIMITS = { perTenant: 5, everywhere: 50, perMailboxPer10Minutes: 10 };
// The code is shown to the admin within this time, or the start is reported as failed.
const PROMPT_WAIT_MS = 20_000;
// A sign-in still "starting" after this never reached Entra (the process stopped).
const STALE_START_MS = 60_000;
/**
 * The poller renews its lease on the row before every poll (every 5 to 15 seconds) and polls only
 * while it holds it; once it has lapsed, the process has stopped, and whichever process looks next
 * takes the poll over. Longer than a poll may take (15 s), so two processes never poll at once.
 */
const POLL_LEASE_MS = 30_000;
const OPEN: DeviceSignIn["status"][] = ["starting", "pending"];
/** A move's test (a full test: a send and the arrival) ends well within this. */
const MOVE_TEST_LEASE_MS = 5 * 60_000;

/** What a page may know about a sign-in: never the device code, which stays sealed in the row. */
export type DeviceSignInView = {
  id: string;
  status: "starting" | "pending" | "succeeded" | "failed" | "cancelled";
  userCode: string | null;
  verificationUri: string | null;
  expiresAt: string | null;
  /** The latest answer from Entra in words, while the sign-in waits. */
  waiting: string | null;
  account: string | null;
  diagnosis: Pick<Diagnosis, "code" | "cause" | "fix" | "setupStep" | "detail"> | null;
};

export type StartedSignIn = { ok: true; signIn: DeviceSignInView } | { ok: false; refusal: Refusal };

type Ref = { tenantId: number; mailboxId: number };

const WAITING_WORDS: Record<string, string> = {
  authorization_pending: "Waiting for you to enter the code and sign in at Microsoft.",
  slow_down: "Microsoft asked to be asked less often; still waiting, a little more slowly.",
  testing: "Signed in. Testing the mailbox with the new sign-in before it switches…",
};

/**
 * Starts "Sign in with Microsoft" for a saved mailbox whose method is the device code. Resolves once
 * Entra has given the code (or refused), so the page shows the code at once; the polling goes on in
 * this process under a lease on the row and writes each answer to the database, where any process can
 * read it. Should this process stop, another takes the poll over (takeOverSignIns).
 */
export async function startDeviceSignIn(
  db: Db,
  actor: Actor,
  ref: Ref,
  how: { move?: boolean } = {},
): Promise<StartedSignIn> {
  const mailbox = await getMailboxToChange(db, actor, ref.tenantId, ref.mailboxId);
  const move = how.move === true;
  if (move && mailbox.signInMethod !== "password") {
    const message = "Only a mailbox on the password grant moves to the Microsoft sign-in.";
    return { ok: false, refusal: { kind: "invalid", message, fieldErrors: {} } };
  }
  if ((!move && mailbox.signInMethod !== "device") || !mailbox.azureClientId || !mailbox.azureTenantId) {
    const message =
      "Choose the sign-in method Microsoft sign-in, enter the ClientID and TenantID, and save before signing in.";
    return { ok: false, refusal: { kind: "invalid", message, fieldErrors: {} } };
  }
  const now = Date.now();
  const poller = randomBytes(9).toString("base64url");
  const opened = await transaction(db, async (tx) => {
    await settleAbandoned(tx, now);
    const open = (
      await tx
        .select()
        .from(deviceSignIns)
        .where(and(eq(deviceSignIns.mailboxId, mailbox.id), inArray(deviceSignIns.status, OPEN)))
    )[0];
    // Pressing the button again (or a second admin) shows the sign-in already waiting.
    if (open) return { ok: true as const, row: open, existing: true };
    const refusal = await limitsRefusal(tx, mailbox, now);
    if (refusal) return { ok: false as const, refusal };
    const row = (
      await tx
        .insert(deviceSignIns)
        .values({
          id: randomBytes(18).toString("base64url"),
          tenantId: mailbox.tenantId,
          mailboxId: mailbox.id,
          mailboxVersion: mailbox.version,
          startedBy: actorLabel(actor),
          startedById: actorUserId(actor),
          status: "starting",
          createdAt: new Date(now),
          pollerId: poller,
          pollerUntil: new Date(now + POLL_LEASE_MS),
          move,
        })
        .returning()
    )[0]!;
    return { ok: true as const, row, existing: false };
  });
  if (!opened.ok) return opened;
  if (opened.existing) return { ok: true, signIn: toView(opened.row) };

  let prompted!: () => void;
  const shown = new Promise<void>((resolve) => {
    prompted = resolve;
  });
  poll(db, actor, mailbox, opened.row, poller, prompted);
  await Promise.race([shown, new Promise((resolve) => setTimeout(resolve, PROMPT_WAIT_MS).unref())]);
  return { ok: true, signIn: toView(await rowOf(db, opened.row.id)) };
}

/** Polls in the background; an unexpected error ends the sign-in as failed rather than leaving it open. */
function poll(
  db: Db,
  actor: Actor,
  mailbox: Mailbox,
  row: DeviceSignIn,
  poller: string,
  prompted: () => void = () => {},
  resume?: DeviceCodePrompt,
): void {
  runSignIn(db, actor, mailbox, row, poller, prompted, resume).catch(async (error: unknown) => {
    console.error("device sign-in failed unexpectedly:", describeError(error));
    await finish(db, row.id, { status: "failed", diagnosis: diagnose("UNEXPECTED") });
    prompted();
  });
}

/** The device code and its prompt, bound to the sign-in's row. */
export const deviceCodeContext = (row: Pick<DeviceSignIn, "tenantId" | "id">) =>
  sealingContext({ tenantId: row.tenantId, table: "device_sign_ins", rowId: row.id, field: "device_code" });

async function runSignIn(
  db: Db,
  actor: Actor,
  mailbox: Mailbox,
  row: DeviceSignIn,
  poller: string,
  prompted: () => void,
  resume?: DeviceCodePrompt,
): Promise<void> {
  const settings = row.move ? movedSettings(mailbox) : checkSettingsFor(mailbox);
  const { authorityHost } = checkOptionsFor(settings);
  const held = and(
    eq(deviceSignIns.id, row.id),
    inArray(deviceSignIns.status, OPEN),
    eq(deviceSignIns.pollerId, poller),
  );
  const lease = () => ({ pollerUntil: new Date(Date.now() + POLL_LEASE_MS) });
  // Set when another process has taken the poll over (this one stalled past its lease).
  let lost = false;
  const renew = async (values: Partial<DeviceSignIn>) => {
    const kept = await db
      .update(deviceSignIns)
      .set({ ...values, ...lease() })
      .where(held)
      .returning({ id: deviceSignIns.id });
    lost ||= kept.length === 0;
  };
  const end = await signInWithDeviceCode({
    settings,
    authorityHost,
    resume,
    async onPrompt(prompt) {
      if (resume) return renew({});
      const { userCode, verificationUri, expiresAt } = prompt;
      // Only a web address is ever shown as a link.
      const uri = /^https:\/\//i.test(verificationUri) ? verificationUri : null;
      const sealed = seal(JSON.stringify(prompt), deviceCodeContext(row));
      await renew({ status: "pending", userCode, verificationUri: uri, expiresAt, deviceCodeSealed: sealed });
      prompted();
    },
    async onAnswer(answer) {
      await renew({ lastAnswer: answer, polledAt: new Date() });
    },
    async mayPoll() {
      await renew({});
      return !lost;
    },
    cancelled: async () => lost || (await rowOf(db, row.id)).status === "cancelled",
  });
  // The process that took over settles the sign-in.
  if (!lost) await (row.move ? settleMove : settle)(db, actor, mailbox, row, end, authorityHost);
  prompted();
}

/** The saved settings as they would be on the Microsoft sign-in: no password. */
function movedSettings(mailbox: Mailbox): CheckSettings {
  return { ...checkSettingsFor(mailbox), signInMethod: "device", password: null };
}

/**
 * A move from the password grant: the new sign-in is proven by a full test of the saved settings
 * with it (its tokens in memory only), and only a passing test switches the mailbox, in one audited
 * write. Anything else leaves the mailbox as it was, password and all.
 */
async function settleMove(
  db: Db,
  actor: Actor,
  mailbox: Mailbox,
  row: DeviceSignIn,
  end: DeviceSignInEnd,
  authorityHost: string,
): Promise<void> {
  if (!end.ok) return settle(db, actor, mailbox, row, end, authorityHost);
  const failed = async (diagnosis: Diagnosis) => {
    await finish(db, row.id, { status: "failed", diagnosis });
    await recordFailedMove(db, actor, mailbox, { to: "device", code: diagnosis.code });
  };
  if (actor.kind !== "user") return failed(diagnose("UNEXPECTED", "a move is started by an administrator"));
  // The test may outlast the poll's lease: the lease is held for it, so no other process takes the
  // sign-in over and polls a code that has been redeemed.
  await db
    .update(deviceSignIns)
    .set({ lastAnswer: "testing", pollerUntil: new Date(Date.now() + MOVE_TEST_LEASE_MS) })
    .where(and(eq(deviceSignIns.id, row.id), inArray(deviceSignIns.status, OPEN)));
  const tokenCache = memoryTokenCache(end.cache);
  const at = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };
  const start = () =>
    startMailboxTest(db, actor, { ...at, source: "form", settings: movedSettings(mailbox), tokenCache });
  let started = await start();
  // A limit (tests a minute) is waited out: the user has signed in, and that sign-in should not be lost.
  for (let waits = 0; waits < 3 && !started.ok; waits++) {
    const refusal = started.refusal;
    if (!("retryAfterSeconds" in refusal)) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(refusal.retryAfterSeconds, 65) * 1000));
    started = await start();
  }
  if (!started.ok) return failed(diagnose("UNEXPECTED", started.refusal.message));
  const result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant: "" });
  if (!result.ok) return failed(result.steps.find((s) => s.status === "failed")?.diagnosis ?? diagnose("UNEXPECTED"));
  try {
    await moveToMicrosoftSignIn(
      db,
      actor,
      { ...at, version: row.mailboxVersion },
      (tx, moved) => storeSignedInCache(tx, moved, checkSettingsFor(moved), authorityHost, tokenCache.current()!),
      { account: end.account, by: actorLabel(actor) },
    );
  } catch (error) {
    // Saved in between: the mailbox stays as the other save left it.
    return failed(diagnose("DEVICE_SETTINGS_CHANGED", error instanceof Error ? error.message : undefined));
  }
  await finish(db, row.id, { status: "succeeded", account: end.account });
}

/**
 * Takes over the sign-ins whose polling process stopped: still waiting for their user, their code not
 * expired, and their poller's lease lapsed. Each is claimed by moving the lease, so one process polls.
 * Called by the page's polling (through any instance) and by the scheduler.
 */
export async function takeOverSignIns(db: Db, now = Date.now()): Promise<number> {
  const orphaned = await db
    .select()
    .from(deviceSignIns)
    .where(
      and(
        eq(deviceSignIns.status, "pending"),
        lt(deviceSignIns.pollerUntil, new Date(now)),
        gt(deviceSignIns.expiresAt, new Date(now)),
      ),
    );
  let taken = 0;
  for (const row of orphaned) {
    const poller = randomBytes(9).toString("base64url");
    const claimed = await db
      .update(deviceSignIns)
      .set({ pollerId: poller, pollerUntil: new Date(now + POLL_LEASE_MS) })
      .where(
        and(
          eq(deviceSignIns.id, row.id),
          eq(deviceSignIns.status, "pending"),
          eq(deviceSignIns.pollerUntil, row.pollerUntil!),
        ),
      )
      .returning({ id: deviceSignIns.id });
    if (claimed.length === 0) continue;
    const mailbox = (await db.select().from(mailboxes).where(eq(mailboxes.id, row.mailboxId)))[0];
    const prompt = row.deviceCodeSealed ? promptOf(row) : null;
    if (!mailbox || !prompt) {
      await finish(db, row.id, { status: "failed", diagnosis: diagnose("DEVICE_EXPIRED") });
      continue;
    }
    poll(db, await starterOf(db, row), mailbox, row, poller, undefined, prompt);
    taken++;
  }
  return taken;
}

function promptOf(row: DeviceSignIn): DeviceCodePrompt | null {
  try {
    const prompt = JSON.parse(open(row.deviceCodeSealed!, deviceCodeContext(row))) as DeviceCodePrompt;
    return { ...prompt, expiresAt: new Date(prompt.expiresAt) };
  } catch {
    // Sealed for another row, or with a key no longer configured: the user starts again.
    return null;
  }
}

/** Who the sign-in is stored as: the admin who started it, or the command line's own name. */
async function starterOf(db: Db, row: DeviceSignIn): Promise<Actor> {
  if (row.startedById !== null) {
    const user = (await db.select().from(users).where(eq(users.id, row.startedById)))[0];
    if (user) return userActorOf(user);
  }
  return { kind: "system", label: row.startedBy };
}

/** Stores a successful sign-in with the mailbox, or records why there is none. */
async function settle(
  db: Db,
  actor: Actor,
  mailbox: Mailbox,
  row: DeviceSignIn,
  end: DeviceSignInEnd,
  authorityHost: string,
): Promise<void> {
  if (!end.ok) {
    await finish(db, row.id, { status: end.reason === "cancelled" ? "cancelled" : "failed", diagnosis: end.diagnosis });
    if (end.reason === "wrong_account")
      await recordMailboxAudit(db, actor, mailbox, "mailbox.sign_in", { outcome: { to: end.diagnosis.code } });
    return;
  }
  await transaction(db, async (tx) => {
    const current = (await tx.select().from(mailboxes).where(eq(mailboxes.id, mailbox.id)))[0];
    const stillOpen = (await rowOf(tx, row.id)).status === "pending";
    if (!current || current.version !== row.mailboxVersion || current.signInMethod !== "device" || !stillOpen) {
      const code = stillOpen ? "DEVICE_SETTINGS_CHANGED" : "DEVICE_CANCELLED";
      await finish(tx, row.id, { status: stillOpen ? "failed" : "cancelled", diagnosis: diagnose(code) });
      return;
    }
    // The account must be of the tenant's Microsoft organisation (the first sign-in binds it).
    const tid = decodeClaims(end.accessToken)?.tid;
    if (
      !(await admitDirectory(tx, actor, current.tenantId, {
        tid,
        domains: [loginDomain(end.account), current.azureTenantId],
      }))
    ) {
      await finish(tx, row.id, { status: "failed", diagnosis: diagnose("DIRECTORY_NOT_ALLOWED", `tid = ${tid}`) });
      await recordMailboxAudit(tx, actor, mailbox, "mailbox.sign_in", { outcome: { to: "DIRECTORY_NOT_ALLOWED" } });
      return;
    }
    const signedInAt = new Date();
    await tx
      .update(mailboxes)
      .set({
        signedInAccount: end.account,
        signedInAt,
        signedInBy: actorLabel(actor),
        signInLostAt: null,
        signInLostCode: null,
      })
      .where(eq(mailboxes.id, mailbox.id));
    await storeSignedInCache(tx, { ...current, signedInAt }, checkSettingsFor(current), authorityHost, end.cache);
    await finish(tx, row.id, { status: "succeeded", account: end.account });
    await recordMailboxAudit(tx, actor, mailbox, "mailbox.sign_in", {
      outcome: { to: "signed in" },
      account: { to: end.account },
    });
  });
}

async function finish(
  db: Queryable,
  id: string,
  end: { status: DeviceSignIn["status"]; diagnosis?: Diagnosis; account?: string },
): Promise<void> {
  await db
    .update(deviceSignIns)
    .set({
      status: end.status,
      failureCode: end.diagnosis?.code ?? null,
      failureDetail: end.diagnosis?.detail ?? null,
      account: end.account ?? null,
      finishedAt: new Date(),
      deviceCodeSealed: null,
    })
    .where(and(eq(deviceSignIns.id, id), inArray(deviceSignIns.status, OPEN)));
}

/** The sign-in as the page polls it; another mailbox's or tenant's sign-in is as missing as none. */
export async function getDeviceSignIn(db: Db, actor: Actor, ref: Ref, id: string): Promise<DeviceSignInView> {
  const mailbox = await getMailboxFor(db, actor, ref.tenantId, ref.mailboxId);
  await settleAbandoned(db, Date.now());
  // The page asks every few seconds, through whichever instance: a poll whose process stopped resumes here.
  await takeOverSignIns(db);
  const row = (
    await db
      .select()
      .from(deviceSignIns)
      .where(and(eq(deviceSignIns.id, id), eq(deviceSignIns.mailboxId, mailbox.id)))
  )[0];
  if (!row) throw new NotFoundError();
  return toView(row);
}

/** Stops a waiting sign-in; the polling process sees it after its next answer from Entra. */
export async function cancelDeviceSignIn(db: Db, actor: Actor, ref: Ref, id: string): Promise<DeviceSignInView> {
  await getDeviceSignIn(db, actor, ref, id);
  await finish(db, id, { status: "cancelled", diagnosis: diagnose("DEVICE_CANCELLED") });
  return toView(await rowOf(db, id));
}

/** The sign-in of this mailbox still waiting for its user, to show again after a reload. */
export async function openDeviceSignIn(db: Db, mailboxId: number): Promise<DeviceSignInView | null> {
  await settleAbandoned(db, Date.now());
  const row = (
    await db
      .select()
      .from(deviceSignIns)
      .where(and(eq(deviceSignIns.mailboxId, mailboxId), inArray(deviceSignIns.status, OPEN)))
      .orderBy(desc(deviceSignIns.createdAt))
  )[0];
  return row ? toView(row) : null;
}

async function limitsRefusal(tx: Queryable, mailbox: Mailbox, now: number): Promise<Refusal | null> {
  const open = inArray(deviceSignIns.status, OPEN);
  const inTenant =
    (
      await tx
        .select({ n: count() })
        .from(deviceSignIns)
        .where(and(open, eq(deviceSignIns.tenantId, mailbox.tenantId)))
    )[0]?.n ?? 0;
  if (inTenant >= SIGN_IN_LIMITS.perTenant) {
    const message = `This tenant already has ${inTenant} Microsoft sign-ins waiting, the most it may have. Finish or cancel one first.`;
    return { kind: "capacity", message, retryAfterSeconds: 30 };
  }
  const everywhere = (await tx.select({ n: count() }).from(deviceSignIns).where(open))[0]?.n ?? 0;
  if (everywhere >= SIGN_IN_LIMITS.everywhere) {
    const message = "The portal has as many Microsoft sign-ins waiting as it may. Try again in a minute.";
    return { kind: "capacity", message, retryAfterSeconds: 60 };
  }
  const recent =
    (
      await tx
        .select({ n: count() })
        .from(deviceSignIns)
        .where(and(eq(deviceSignIns.mailboxId, mailbox.id), gt(deviceSignIns.createdAt, new Date(now - 600_000))))
    )[0]?.n ?? 0;
  if (recent >= SIGN_IN_LIMITS.perMailboxPer10Minutes) {
    const message = `This mailbox started ${recent} sign-ins in the last 10 minutes. Try again later.`;
    return { kind: "rate_limited", message, retryAfterSeconds: 600 };
  }
  return null;
}

/** Sign-ins whose process stopped (restart): past their code's expiry, or never got a code. */
async function settleAbandoned(db: Queryable, now: number): Promise<void> {
  const expired = and(eq(deviceSignIns.status, "pending"), lt(deviceSignIns.expiresAt, new Date(now - 5_000)));
  for (const row of await db.select({ id: deviceSignIns.id }).from(deviceSignIns).where(expired))
    await finish(db, row.id, { status: "failed", diagnosis: diagnose("DEVICE_EXPIRED") });
  const stuck = and(eq(deviceSignIns.status, "starting"), lt(deviceSignIns.createdAt, new Date(now - STALE_START_MS)));
  for (const row of await db.select({ id: deviceSignIns.id }).from(deviceSignIns).where(stuck))
    await finish(db, row.id, { status: "failed", diagnosis: diagnose("TOKEN_TIMEOUT") });
}

async function rowOf(db: Queryable, id: string): Promise<DeviceSignIn> {
  return (await db.select().from(deviceSignIns).where(eq(deviceSignIns.id, id)))[0]!;
}

function toView(row: DeviceSignIn): DeviceSignInView {
  const open = OPEN.includes(row.status);
  const code = row.failureCode as DiagnosisCode | null;
  const entry = code && code in CATALOGUE ? diagnose(code, row.failureDetail ?? undefined) : null;
  return {
    id: row.id,
    status: row.status,
    userCode: open ? row.userCode : null,
    verificationUri: open ? row.verificationUri : null,
    expiresAt: open && row.expiresAt ? row.expiresAt.toISOString() : null,
    waiting: open ? (WAITING_WORDS[row.lastAnswer ?? "authorization_pending"] ?? null) : null,
    account: row.account,
    diagnosis: entry
      ? { code: entry.code, cause: entry.cause, fix: entry.fix, setupStep: entry.setupStep, detail: entry.detail }
      : code
        ? { ...diagnose("AADSTS_OTHER", row.failureDetail ?? undefined), code }
        : null,
  };
}
