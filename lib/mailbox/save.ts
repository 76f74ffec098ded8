import "server-only";
import { and, count, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { type Db, type Queryable, type Tx, transaction } from "@/db/client";
import { type Mailbox, mailboxes, mailboxTests } from "@/db/schema";
import { diffChanges, recordMailboxAudit } from "@/lib/audit/log";
import type { Actor, UserActor } from "@/lib/auth/actor";
import { type MailTransport, signInMethodWith, usesImap, usesSmtp } from "@/lib/engine/settings";
import { TRANSPORTS } from "@/lib/engine/transports";
import { getEnv } from "@/lib/env";
import { UserError } from "@/lib/errors";
import { formatUtc } from "@/lib/format-time";
import { directoryFieldError } from "@/lib/tenants/directories";
import { getTenantFor } from "@/lib/tenants/queries";
import { generateCertificate } from "./certificate";
import { credentialColumns, hasAppCredential } from "./credentials";
import { getMailboxFor, getMailboxToChange } from "./queries";
import type { MailboxSettings, SaveMailboxInput } from "./schema";
import { DESTINATION_FIELDS, secretMustBeRetyped } from "./secret-rule";
import { dropTokenCache } from "./token-cache-store";

const AUDITED_FIELDS = [
  "name",
  "type",
  "transport",
  "signInMethod",
  ...DESTINATION_FIELDS,
  "mailboxAddress",
  "sendAs",
  "monitorLight",
  "monitorFull",
] as const;
// Compared, never shown: the audit log says only "changed".
const SECRET_AUDIT_FIELDS = ["password", "clientSecret", "privateKey", "certificate"];

/** The Microsoft sign-in belonged to the old settings: the mailbox must sign in again. */
const NOT_SIGNED_IN = {
  signedInAccount: null,
  signedInAt: null,
  signedInBy: null,
  signInLostAt: null,
  signInLostCode: null,
} satisfies Partial<Mailbox>;

type SettingsRow = Pick<Mailbox, (typeof AUDITED_FIELDS)[number]>;

export async function createMailbox(db: Db, actor: UserActor, input: SaveMailboxInput): Promise<Mailbox> {
  return transaction(db, async (tx) => {
    await getTenantFor(tx, actor, input.tenantId);
    await assertBelowMailboxLimit(tx, input.tenantId);
    await assertNameFree(tx, input.tenantId, input.name);
    await assertInDirectories(tx, input.tenantId, settingsRow(input));
    const inserted = (
      await tx
        .insert(mailboxes)
        .values({ tenantId: input.tenantId, ...settingsRow(input), updatedBy: actor.email })
        .returning()
    )[0]!;
    // Sealed secrets are bound to the row id, which exists only after the insert.
    requireAppCredential(inserted, input);
    const secrets = credentialColumns(inserted, input, actor);
    const mailbox =
      Object.keys(secrets).length > 0
        ? (await tx.update(mailboxes).set(secrets).where(eq(mailboxes.id, inserted.id)).returning())[0]!
        : inserted;
    await recordMailboxAudit(
      tx,
      actor,
      mailbox,
      "mailbox.create",
      diffChanges(null, auditView(mailbox), SECRET_AUDIT_FIELDS),
    );
    return mailbox;
  });
}

export async function updateMailbox(
  db: Db,
  actor: UserActor,
  input: SaveMailboxInput & { mailboxId: number; version: number },
): Promise<Mailbox> {
  return transaction(db, async (tx) => {
    const current = await getMailboxToChange(tx, actor, input.tenantId, input.mailboxId);
    if (current.version !== input.version) throw conflict(current);
    const next = settingsRow(input);
    if (next.name !== current.name) await assertNameFree(tx, input.tenantId, next.name);
    const retype = secretMustBeRetyped(current, next, input);
    if (retype) throw new UserError(retype.message, retype.field);
    await assertInDirectories(tx, input.tenantId, next);
    if (input.signInMethod !== current.signInMethod) requireAppCredential(null, input);
    else requireAppCredential(current, input);
    const secrets = credentialColumns(current, input, actor, current);
    const wanted = { ...current, ...next, ...secrets };
    // A token belongs to where it was sent and the secret that made it; anything else starts over,
    // including a Microsoft sign-in.
    const tokenChanged = (["type", ...DESTINATION_FIELDS] as const).some((field) => current[field] !== wanted[field]);
    const secretChanged = (["passwordSealed", "clientSecretSealed", "privateKeySealed", "signInMethod"] as const).some(
      (field) => current[field] !== wanted[field],
    );
    const startOver = tokenChanged || secretChanged;
    const updated = await writeVersion(tx, actor, input, { ...next, ...secrets, ...(startOver ? NOT_SIGNED_IN : {}) });
    if (startOver) await dropTokenCache(tx, updated.id);
    const changes = changesOf(current, updated);
    if (Object.keys(changes).length > 0) {
      await recordMailboxAudit(tx, actor, updated, "mailbox.update", changes);
    }
    return updated;
  });
}

/**
 * Switches the saved mailbox to another transport ("Switch to Microsoft Graph"), only once a test of
 * these very settings over it has passed: a trial or a saved test, started after the last save. The
 * sign-in and its token cache stay (they belong to the app registration, not to the transport).
 */
export async function switchTransport(
  db: Db,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  transport: MailTransport,
): Promise<Mailbox> {
  return transaction(db, async (tx) => {
    const current = await getMailboxToChange(tx, actor, at.tenantId, at.mailboxId);
    if (current.version !== at.version) throw conflict(current);
    if (current.transport === transport) return current;
    const steps = Object.entries(TRANSPORTS)
      .filter(([, t]) => t.usedBy({ type: current.type, transport }))
      .map(([name]) => name);
    const proofs = await tx
      .select({ steps: mailboxTests.steps })
      .from(mailboxTests)
      .where(
        and(
          eq(mailboxTests.mailboxId, current.id),
          eq(mailboxTests.outcome, "passed"),
          eq(mailboxTests.mode, "full"),
          inArray(mailboxTests.source, ["trial", "saved"]),
          gte(mailboxTests.startedAt, current.updatedAt),
        ),
      )
      .orderBy(desc(mailboxTests.id))
      .limit(20);
    if (!proofs.some((test) => steps.every((name) => test.steps.some((s) => s.name === name)))) {
      throw new UserError(
        "Nothing was switched: test these settings over the new transport first (a full test that passes, after the last save).",
      );
    }
    const updated = await writeVersion(tx, actor, at, { transport });
    await recordMailboxAudit(tx, actor, updated, "mailbox.update", changesOf(current, updated));
    return updated;
  });
}

/**
 * The app registration the one-click Entra setup made (and proved), written into the mailbox's Azure
 * fields as a save would: a new version, the token cache and any Microsoft sign-in dropped, audited.
 */
export async function saveEntraApp(
  db: Db,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  app: { azureClientId: string; azureTenantId: string },
  /** App-only: the certificate the setup made and the app now holds, with its private key. */
  certificate?: { certificatePem: string; privateKeyPem: string },
): Promise<Mailbox> {
  return rewriteCredentials(db, actor, at, "mailbox.update", (current) => {
    if (!certificate)
      return { ...app, ...NOT_SIGNED_IN, signInMethod: signInMethodWith(current.signInMethod, app.azureClientId) };
    const input = { signInMethod: "app" as const, clearPassword: false, ...certificate };
    return { ...app, ...NOT_SIGNED_IN, ...credentialColumns(current, input, actor, current), signInMethod: "app" };
  });
}

/**
 * Makes a key pair and a self-signed certificate for app-only access, and switches the mailbox to it.
 * The private key is sealed at once and never leaves the portal; the certificate is for the admin to upload.
 */
export async function generateAppCertificate(
  db: Db,
  actor: UserActor,
  input: { tenantId: number; mailboxId: number; version: number },
): Promise<Mailbox> {
  return rewriteCredentials(db, actor, input, "mailbox.certificate", (current) => {
    if (!current.azureClientId || !current.azureTenantId) {
      throw new UserError(
        "Enter and save the Azure Application ClientID and TenantID first: the certificate belongs to that app.",
      );
    }
    const generated = generateCertificate(`Navigator Mail ${current.name}`);
    const secrets = credentialColumns(
      current,
      { signInMethod: "app", clearPassword: false, ...generated },
      actor,
      current,
    );
    return { ...secrets, signInMethod: "app" };
  });
}

/** A move starts from the password grant, and writes only while the mailbox is still on it. */
export function assertOnPasswordGrant(mailbox: Pick<Mailbox, "signInMethod">): void {
  if (mailbox.signInMethod !== "password") throw new UserError("This mailbox no longer uses the password grant.");
}

/** A move whose test failed (or could not run): audited with its code; the mailbox itself is unchanged. */
export async function recordFailedMove(
  db: Queryable,
  actor: Actor,
  mailbox: Mailbox,
  move: { to: "device" | "app"; code: string; app?: string | null },
): Promise<void> {
  await recordMailboxAudit(db, actor, mailbox, "mailbox.move", {
    signInMethod: { from: "password", to: move.to },
    ...(move.app ? { app: { to: move.app } } : {}),
    outcome: { to: move.code },
  });
}

/**
 * Moves a mailbox from the password grant to the Microsoft sign-in a test has just proven: the password
 * is erased, the sign-in and its tokens (`storeCache`) are kept, in one audited write at the version
 * the move started from. A save in between, or a mailbox no longer on the password grant, refuses it.
 */
export async function moveToMicrosoftSignIn(
  db: Db,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  storeCache: (tx: Tx, moved: Mailbox) => Promise<void>,
  signIn: { account: string; by: string },
): Promise<Mailbox> {
  return rewriteCredentials(
    db,
    actor,
    at,
    "mailbox.move",
    (current) => {
      assertOnPasswordGrant(current);
      const input = { signInMethod: "device" as const, clearPassword: true };
      return {
        ...credentialColumns(current, input, actor, current),
        signInMethod: "device",
        signedInAccount: signIn.account,
        signedInAt: new Date(),
        signedInBy: signIn.by,
        signInLostAt: null,
        signInLostCode: null,
      };
    },
    storeCache,
  );
}

/**
 * Moves a mailbox from the password grant to app-only with an app a test has just proven for it: the
 * app's IDs and credential are written in, sealed to this mailbox, and the password erased, in one
 * audited write at the version the move started from.
 */
export async function moveToAppOnly(
  db: Db,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  app: Pick<Mailbox, "azureClientId" | "azureTenantId" | "cloud">,
  credential:
    | { clientSecret: string; clientSecretExpiresAt?: Date }
    | { certificatePem: string; privateKeyPem: string },
): Promise<Mailbox> {
  return rewriteCredentials(db, actor, at, "mailbox.move", (current) => {
    assertOnPasswordGrant(current);
    const input = { signInMethod: "app" as const, clearPassword: true, ...credential };
    return { ...app, ...NOT_SIGNED_IN, ...credentialColumns(current, input, actor, current), signInMethod: "app" };
  });
}

/**
 * A new version of the mailbox whose sign-in changed (its app, its credential): the version checked,
 * the token cache dropped (or replaced by `storeCache`), the change audited without secrets, in one
 * transaction.
 */
async function rewriteCredentials(
  db: Db,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  action: string,
  change: (current: Mailbox) => Partial<Mailbox>,
  storeCache?: (tx: Tx, updated: Mailbox) => Promise<void>,
): Promise<Mailbox> {
  return transaction(db, async (tx) => {
    const current = await getMailboxToChange(tx, actor, at.tenantId, at.mailboxId);
    if (current.version !== at.version) throw conflict(current);
    const updated = await writeVersion(tx, actor, at, change(current));
    await dropTokenCache(tx, updated.id);
    if (storeCache) await storeCache(tx, updated);
    const changes = changesOf(current, updated);
    await recordMailboxAudit(tx, actor, updated, action, changes);
    return updated;
  });
}

export async function deleteMailbox(db: Db, actor: UserActor, tenantId: number, mailboxId: number): Promise<Mailbox> {
  return transaction(db, async (tx) => {
    const mailbox = await getMailboxToChange(tx, actor, tenantId, mailboxId);
    await tx.delete(mailboxes).where(eq(mailboxes.id, mailbox.id));
    const changes = { name: { from: mailbox.name }, login: { from: mailbox.login } };
    await recordMailboxAudit(tx, actor, mailbox, "mailbox.delete", changes);
    return mailbox;
  });
}

/**
 * The stored columns for validated settings; servers the Type does not use are not kept. With the Graph
 * transport they are kept as typed, so that switching back needs nothing retyped.
 */
export function settingsRow(input: MailboxSettings): SettingsRow {
  const smtp = usesSmtp(input.type);
  const imap = usesImap(input.type);
  return {
    name: input.name,
    type: input.type,
    transport: input.transport,
    login: input.login,
    mailboxAddress: input.mailboxAddress ?? null,
    sendAs: input.sendAs ?? null,
    smtpHost: smtp ? (input.smtpHost ?? null) : null,
    smtpPort: smtp ? (input.smtpPort ?? null) : null,
    imapHost: imap ? (input.imapHost ?? null) : null,
    imapPort: imap ? (input.imapPort ?? null) : null,
    useTls: input.useTls,
    azureClientId: input.azureClientId ?? null,
    azureTenantId: input.azureTenantId ?? null,
    cloud: input.cloud,
    signInMethod: input.signInMethod,
    monitorLight: input.monitorLight ?? null,
    monitorFull: input.monitorFull ?? null,
  };
}

/** Writes the next version of the mailbox, only if it is still at the version the save started from. */
async function writeVersion(
  tx: Tx,
  actor: UserActor,
  at: { tenantId: number; mailboxId: number; version: number },
  values: Partial<Mailbox>,
): Promise<Mailbox> {
  const updated = (
    await tx
      .update(mailboxes)
      .set({ ...values, version: sql`${mailboxes.version} + 1`, updatedBy: actor.email, updatedAt: new Date() })
      .where(and(eq(mailboxes.id, at.mailboxId), eq(mailboxes.version, at.version)))
      .returning()
  )[0]!;
  if (!updated) throw conflict(await getMailboxFor(tx, actor, at.tenantId, at.mailboxId));
  return updated;
}

/** App-only needs a credential: typed now, or already stored for this method. */
function requireAppCredential(stored: Mailbox | null, input: SaveMailboxInput): void {
  if (input.signInMethod !== "app" || input.clientSecret || (input.certificatePem && input.privateKeyPem)) return;
  if (stored?.signInMethod === "app" && hasAppCredential(stored)) return;
  throw new UserError("App-only needs a client secret, or a certificate with its private key.", "clientSecret");
}

/** What a write changed, field by field, secrets only as "changed". */
function changesOf(current: Mailbox, updated: Mailbox) {
  return diffChanges(auditView(current), auditView(updated), SECRET_AUDIT_FIELDS);
}

function auditView(mailbox: Mailbox): Record<string, unknown> {
  const view: Record<string, unknown> = Object.fromEntries(AUDITED_FIELDS.map((field) => [field, mailbox[field]]));
  const secrets = {
    password: mailbox.passwordSealed,
    clientSecret: mailbox.clientSecretSealed,
    privateKey: mailbox.privateKeySealed,
    certificate: mailbox.certificatePem,
    credentialExpiresAt: mailbox.appCredentialExpiresAt,
  };
  for (const [field, value] of Object.entries(secrets)) if (value) view[field] = value;
  return view;
}

function conflict(current: Mailbox): UserError {
  const at = formatUtc(current.updatedAt);
  return new UserError(
    `This mailbox was changed by ${current.updatedBy} at ${at} UTC — reload to see the changes. Nothing was saved.`,
  );
}

async function assertBelowMailboxLimit(tx: Tx, tenantId: number): Promise<void> {
  const limit = getEnv().MAX_MAILBOXES_PER_TENANT;
  const existing = (await tx.select({ n: count() }).from(mailboxes).where(eq(mailboxes.tenantId, tenantId)))[0]?.n ?? 0;
  if (existing >= limit)
    throw new UserError(`This tenant has ${existing} mailboxes, the most it may have. Delete one first.`);
}

/** A mailbox of a tenant bound to its Microsoft organisation must point there (TenantID and Login). */
async function assertInDirectories(tx: Tx, tenantId: number, row: SettingsRow): Promise<void> {
  const outside = await directoryFieldError(tx, tenantId, row);
  if (outside) throw new UserError(outside.message, outside.field);
}

async function assertNameFree(tx: Tx, tenantId: number, name: string): Promise<void> {
  const clash = (
    await tx
      .select({ id: mailboxes.id })
      .from(mailboxes)
      .where(and(eq(mailboxes.tenantId, tenantId), sql`lower(${mailboxes.name}) = lower(${name})`))
  )[0];
  if (clash) throw new UserError(`This tenant already has a mailbox named "${name}".`, "name");
}
