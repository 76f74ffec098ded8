import "server-only";
import { and, desc, eq, gt, or, sql } from "drizzle-orm";
import { type Db, preparedOnce, transaction } from "@/db/client";
import { apiTokenIssues, type Mailbox, mailboxTests } from "@/db/schema";
import { recordMailboxAudit } from "@/lib/audit/log";
import { type ApiKeyActor, actorLabel } from "@/lib/auth/actor";
import { decodeClaims } from "@/lib/engine/claims";
import { type Diagnosis, diagnose } from "@/lib/engine/diagnoses";
import {
  accessFor,
  type CheckSettings,
  identitiesOf,
  type TokenPurpose,
  usesImap,
  usesSmtp,
} from "@/lib/engine/settings";
import { SIGN_IN_PROVIDERS } from "@/lib/engine/sign-in-methods";
import { getMailboxFor } from "@/lib/mailbox/queries";
import type { Refusal } from "./refusals";
import { noteSignInLost } from "./sign-in-state";
import { credentialCooldown, credentialFingerprint } from "./test-limits";
import { checkOptionsFor, checkSettingsFor } from "./test-settings";

/**
 * The settings a token for one purpose is asked with: SMTP or IMAP alone over Exchange Online, or Graph's
 * mail permissions for what the mailbox's Type does. Their permissions (accessFor) are all a token of
 * that purpose may carry.
 */
function settingsForPurpose(settings: CheckSettings, purpose: TokenPurpose): CheckSettings {
  return purpose === "graph"
    ? { ...settings, transport: "graph" }
    : { ...settings, transport: "smtp_imap", type: purpose };
}

/** What the business system gets: a short-lived access token and the user to name in XOAUTH2. Never a refresh token. */
type IssuedToken = {
  access_token: string;
  token_type: "Bearer";
  expires_at: string;
  scope: string;
  xoauth2_user: string;
  mailbox: string;
};

export type TokenAnswer =
  | { ok: true; token: IssuedToken }
  | { ok: false; refusal: Refusal }
  /** Microsoft refused; `retryAfterSeconds` when the answer is the refusal recorded a moment ago. */
  | { ok: false; diagnosis: Diagnosis; retryAfterSeconds?: number };

/**
 * After Microsoft refused a token for these settings, the same refusal is the answer for this long,
 * without asking again or writing anything: a consumer in a loop costs one request and one history row a minute.
 */
const REFUSAL_COOLDOWN_MS = 60_000;

/**
 * Token requests per minute that reached Microsoft or ended in a refusal, per key and per mailbox;
 * and answers from the cache per second per key, far above any real consumer. Counted in this
 * process (each instance of the portal counts its own).
 */
export const TOKEN_LIMITS = {
  expensivePerKeyPerMinute: 30,
  expensivePerMailboxPerMinute: 20,
  cachedPerKeyPerSecond: 1000,
};

const shared = globalThis as unknown as { navigatorTokenWindows?: Map<string, number[]> };
shared.navigatorTokenWindows ??= new Map();
const windows = shared.navigatorTokenWindows;

/** The moments counted under `key` within the last `spanMs`, oldest first (older ones are dropped). */
function recent(key: string, spanMs: number, now: number): number[] {
  const kept = (windows.get(key) ?? []).filter((at) => at > now - spanMs);
  windows.set(key, kept);
  return kept;
}

/** A 429 when `key` has had `limit` counted moments within `spanMs`; null while it has room. */
function overLimit(key: string, limit: number, spanMs: number, what: string, now: number): Refusal | null {
  const moments = recent(key, spanMs, now);
  if (moments.length < limit) return null;
  const retryAfterSeconds = Math.max(1, Math.ceil((moments[0]! + spanMs - now) / 1000));
  return { kind: "rate_limited", message: `${what} Try again in ${retryAfterSeconds} s.`, retryAfterSeconds };
}

function count(key: string, now: number): void {
  const moments = windows.get(key) ?? [];
  moments.push(now);
  windows.set(key, moments);
}

/**
 * A fresh access token for a mailbox, the way a test gets one: from the sealed cache, renewed with the
 * refresh token, or with the mailbox's own flow (password grant, client credentials). The credential
 * cool-down applies, and a refused sign-in is recorded so it applies to the next caller too.
 */
export async function issueMailboxToken(
  db: Db,
  actor: ApiKeyActor,
  ref: { tenantId: number; mailboxId: number },
  requested?: TokenPurpose,
): Promise<TokenAnswer> {
  // A key limited to one purpose gets tokens for that purpose only.
  const limit = actor.tokenPurpose;
  if (limit && requested && requested !== limit) {
    const message = `This API key gets tokens for ${limit.toUpperCase()} only; it may not ask for ${requested.toUpperCase()}.`;
    return { ok: false, refusal: { kind: "forbidden", message } };
  }
  const purpose = requested ?? limit ?? undefined;
  const mailbox = await getMailboxFor(db, actor, ref.tenantId, ref.mailboxId);
  const settings = checkSettingsFor(mailbox);
  const provider = SIGN_IN_PROVIDERS[settings.signInMethod];
  if (!provider) {
    const message = "This mailbox signs in with a plain password (no Azure fields): there is no token to issue.";
    return { ok: false, refusal: { kind: "invalid", message, fieldErrors: {} } };
  }
  if (purpose && purpose !== "graph" && !(purpose === "smtp" ? usesSmtp(settings.type) : usesImap(settings.type))) {
    const message = `This mailbox's Type does not include ${purpose.toUpperCase()}.`;
    return { ok: false, refusal: { kind: "invalid", message, fieldErrors: { purpose: [message] } } };
  }
  const now = Date.now();
  const keyWindow = `key:${actor.id}`;
  const mailboxWindow = `mailbox:${mailbox.id}`;
  const limited =
    overLimit(
      `cached:${actor.id}`,
      TOKEN_LIMITS.cachedPerKeyPerSecond,
      1000,
      "This API key asks for tokens too often.",
      now,
    ) ??
    overLimit(
      keyWindow,
      TOKEN_LIMITS.expensivePerKeyPerMinute,
      60_000,
      "This API key's token requests were refused or reached Microsoft too often in the last minute.",
      now,
    ) ??
    overLimit(
      mailboxWindow,
      TOKEN_LIMITS.expensivePerMailboxPerMinute,
      60_000,
      "Token requests for this mailbox were refused or reached Microsoft too often in the last minute.",
      now,
    );
  if (limited) return { ok: false, refusal: limited };
  count(`cached:${actor.id}`, now);
  const fingerprint = credentialFingerprint(settings);
  const expensive = () => {
    count(keyWindow, now);
    count(mailboxWindow, now);
  };
  const cooldown = await credentialCooldown(db, mailbox.id, fingerprint);
  if (cooldown) {
    expensive();
    return { ok: false, refusal: cooldown };
  }
  const refused = await recentRefusal(db, mailbox, fingerprint);
  if (refused) {
    expensive();
    return { ok: false, ...refused };
  }

  // The cache belongs to the saved settings as a whole; a purpose only narrows the scopes asked for.
  const options = checkOptionsFor(settings, { db, mailbox, actor, cache: true });
  const asked = purpose ? settingsForPurpose(settings, purpose) : settings;
  const started = new Date();
  const token = await provider.acquire({
    settings: asked,
    authorityHost: options.authorityHost,
    cache: options.tokenCache,
  });
  if (!token.ok || token.requests > 0) expensive();
  if (!token.ok) {
    await recordRefusal(db, actor, mailbox, fingerprint, started, token.diagnosis);
    return { ok: false, diagnosis: token.diagnosis };
  }
  const claims = decodeClaims(token.accessToken);
  // A token of another Microsoft organisation than the tenant's is never handed out.
  if (options.admitDirectory && !(await options.admitDirectory(claims?.tid))) {
    const diagnosis = diagnose("DIRECTORY_NOT_ALLOWED", `tid = ${claims?.tid}`);
    await recordRefusal(db, actor, mailbox, fingerprint, started, diagnosis);
    return { ok: false, diagnosis };
  }
  // Entra puts every consented permission of the app into a token, whatever was asked for: a key
  // limited to a purpose never receives a token that can do more.
  const carried = claims?.scp?.split(" ").filter(Boolean) ?? claims?.roles ?? [];
  if (limit && claims) {
    const allowed = accessFor(settingsForPurpose(settings, limit));
    const extra = carried.filter((p) => !allowed.scopes.includes(p) && !allowed.roles.includes(p));
    if (extra.length > 0) {
      const only = token.expect.kind === "application" ? allowed.roles : allowed.scopes;
      const message = `This API key is limited to ${limit.toUpperCase()}, and the only token for this mailbox also carries ${extra.join(", ")}. Give the mailbox an app registration with only ${only.join(" and ")}, or use a key for every purpose.`;
      return { ok: false, refusal: { kind: "forbidden", message } };
    }
  }
  const expiresAt = token.expiresOn ?? new Date(Date.now() + 3_600_000);
  await noteIssue(db, actor, mailbox, expiresAt, token.source);
  // What the token can do, as it says itself (its delegated `scp` or its application `roles`): a token
  // from the cache may carry more than this request's purpose asked for. Only a token that cannot be
  // read (not a JWT) is described by what was asked.
  const access = accessFor(asked);
  const scope =
    (carried.length > 0 ? carried.join(" ") : undefined) ??
    (token.expect.kind === "application"
      ? `${access.appResource}/.default`
      : token.expect.scopes.map((s) => `${access.resource}/${s}`).join(" "));
  return {
    ok: true,
    token: {
      access_token: token.accessToken,
      token_type: "Bearer",
      expires_at: expiresAt.toISOString(),
      scope,
      // IMAP opens the Mailbox with the Login's token; SMTP signs in as the Login (app-only: the Mailbox).
      xoauth2_user: purpose === "imap" ? identitiesOf(settings).mailbox : token.xoauth2User,
      mailbox: identitiesOf(settings).mailbox,
    },
  };
}

/** At most one audit entry a minute per key and mailbox for the tokens it issues. */
const ISSUE_AUDIT_EVERY_MS = 60_000;

/**
 * Issues are audited with the key's name at most once a minute per key and mailbox; the same token
 * handed out again, and new tokens within the minute, are only counted, and the count goes into the
 * next audit entry. So the append-only log grows with time, not with calls.
 */
async function noteIssue(db: Db, actor: ApiKeyActor, mailbox: Mailbox, expiresAt: Date, source: string): Promise<void> {
  const now = new Date();
  // Asked on every token the API hands out: prepared once.
  const counted = await preparedOnce(db, "countTokenIssue", (q) =>
    q
      .update(apiTokenIssues)
      .set({
        issued: sql`${apiTokenIssues.issued} + 1`,
        lastAt: sql`${sql.placeholder("now")}`,
        tokenExpiresAt: sql`${sql.placeholder("expires")}`,
      })
      .where(
        and(
          eq(apiTokenIssues.apiKeyId, sql.placeholder("key")),
          eq(apiTokenIssues.mailboxId, sql.placeholder("mailbox")),
          or(
            eq(apiTokenIssues.tokenExpiresAt, sql.placeholder("expires")),
            gt(apiTokenIssues.auditedAt, sql.placeholder("since")),
          ),
        ),
      )
      .returning({ issued: apiTokenIssues.issued })
      .prepare(),
  ).execute({
    now: now.getTime(),
    key: actor.id,
    mailbox: mailbox.id,
    expires: expiresAt.getTime(),
    since: now.getTime() - ISSUE_AUDIT_EVERY_MS,
  });
  if (counted.length > 0) return;
  const key = and(eq(apiTokenIssues.apiKeyId, actor.id), eq(apiTokenIssues.mailboxId, mailbox.id));
  const last = (await db.select().from(apiTokenIssues).where(key))[0];
  await transaction(db, async (tx) => {
    await recordMailboxAudit(tx, actor, mailbox, "mailbox.token", {
      expiresAt: { to: expiresAt.toISOString() },
      source: { to: source },
      ...(last ? { issuedSinceLastEntry: { to: `${last.issued} time${last.issued === 1 ? "" : "s"}` } } : {}),
    });
    const values = { tokenExpiresAt: expiresAt, issued: 1, lastAt: now, auditedAt: now };
    await tx
      .insert(apiTokenIssues)
      .values({ apiKeyId: actor.id, mailboxId: mailbox.id, ...values })
      .onConflictDoUpdate({ target: [apiTokenIssues.apiKeyId, apiTokenIssues.mailboxId], set: values });
  });
}

/**
 * The token refusal recorded for these settings within the cool-down, with the seconds left of it;
 * none once anything about the mailbox changed after it (a save, a Microsoft sign-in, a new secret).
 */
async function recentRefusal(
  db: Db,
  mailbox: Mailbox,
  fingerprint: string,
  now = Date.now(),
): Promise<{ diagnosis: Diagnosis; retryAfterSeconds: number } | null> {
  const mailboxId = mailbox.id;
  const changedAt = Math.max(
    ...[mailbox.updatedAt, mailbox.signedInAt, mailbox.appCredentialChangedAt, mailbox.passwordChangedAt].map(
      (at) => at?.getTime() ?? 0,
    ),
  );
  const last = (
    await preparedOnce(db, "lastTokenRefusal", (q) =>
      q
        .select({
          startedAt: mailboxTests.startedAt,
          steps: mailboxTests.steps,
          fingerprint: mailboxTests.credentialFingerprint,
        })
        .from(mailboxTests)
        .where(
          and(
            eq(mailboxTests.mailboxId, sql.placeholder("mailboxId")),
            eq(mailboxTests.source, "token"),
            gt(mailboxTests.startedAt, sql.placeholder("since")),
          ),
        )
        .orderBy(desc(mailboxTests.startedAt))
        .limit(1)
        .prepare(),
    ).execute({ mailboxId, since: now - REFUSAL_COOLDOWN_MS })
  )[0];
  const current = last && last.fingerprint === fingerprint && last.startedAt.getTime() > changedAt;
  const diagnosis = current ? last.steps?.[0]?.diagnosis : undefined;
  if (!last || !diagnosis) return null;
  const retryAfterSeconds = Math.max(1, Math.ceil((last.startedAt.getTime() + REFUSAL_COOLDOWN_MS - now) / 1000));
  return { diagnosis, retryAfterSeconds };
}

/** A refused token request goes into the mailbox's history, where the cool-down and the admins see it. */
async function recordRefusal(
  db: Db,
  actor: ApiKeyActor,
  mailbox: Mailbox,
  fingerprint: string,
  startedAt: Date,
  diagnosis: Diagnosis,
): Promise<void> {
  const step = {
    name: "token" as const,
    status: "failed" as const,
    durationMs: Date.now() - startedAt.getTime(),
    summary: diagnosis.cause,
    diagnosis,
  };
  await transaction(db, async (tx) => {
    await tx.insert(mailboxTests).values({
      mailboxId: mailbox.id,
      tenantId: mailbox.tenantId,
      startedAt,
      finishedAt: new Date(),
      outcome: "failed",
      source: "token",
      triggeredBy: actorLabel(actor),
      steps: [step],
      credentialFingerprint: fingerprint,
      failureCode: diagnosis.code,
    });
    await recordMailboxAudit(tx, actor, mailbox, "mailbox.token", {
      outcome: { to: "refused" },
      failure: { to: diagnosis.code },
    });
  });
  await noteSignInLost(db, mailbox, { ok: false, durationMs: step.durationMs, steps: [step] });
}
