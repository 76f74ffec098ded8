import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { CLOUDS, MAIL_TRANSPORTS, MAILBOX_TYPES, SIGN_IN_METHODS, TOKEN_PURPOSES } from "../lib/engine/settings";
import type { StepResult } from "../lib/engine/steps";
import {
  ALERT_CHANNEL_KINDS,
  ALERT_KINDS,
  ALERT_STATES,
  API_MESSAGE_STATUSES,
  type ApiScope,
  type AuditChange,
  DELIVERY_STATUSES,
  DEVICE_SIGN_IN_STATUSES,
  DIRECTORY_KINDS,
  ENTRA_SETUP_STATUSES,
  MONITOR_FREQUENCIES,
  ROLES,
  TEST_OUTCOMES,
} from "./values";

const timestamps = {
  createdAt: integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .$defaultFn(() => new Date()),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" })
    .notNull()
    .$defaultFn(() => new Date()),
};

export const tenants = sqliteTable(
  "tenants",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    slug: text("slug").notNull().unique(),
    name: text("name").notNull(),
    // The tenant's usual app registration: new mailboxes start from it.
    defaultAzureClientId: text("default_azure_client_id"),
    defaultAzureTenantId: text("default_azure_tenant_id"),
    defaultCloud: text("default_cloud", { enum: CLOUDS }),
    // Monitoring of the tenant's mailboxes, unless a mailbox says otherwise.
    monitorLight: text("monitor_light", { enum: MONITOR_FREQUENCIES }).notNull().default("hourly"),
    monitorFull: text("monitor_full", { enum: MONITOR_FREQUENCIES }).notNull().default("daily"),
    ...timestamps,
  },
  // The Tenants page lists by name a page at a time.
  (t) => [index("tenants_name_idx").on(t.name, t.id)],
);

/**
 * The Microsoft organisations a tenant is bound to: Entra tenant IDs and verified domains. A mailbox
 * outside them is refused at save, and a token from another organisation is refused. Only
 * super-admins change the list; the first successful sign-in fills an empty one.
 */
export const tenantDirectories = sqliteTable(
  "tenant_directories",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: DIRECTORY_KINDS }).notNull(),
    // Lower case: a GUID or a domain name.
    value: text("value").notNull(),
    // "first-sign-in" (trust on first use) or "super-admin".
    source: text("source", { enum: ["first-sign-in", "super-admin"] }).notNull(),
    addedBy: text("added_by").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("tenant_directories_unique").on(t.tenantId, t.kind, t.value)],
);

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    tenantId: integer("tenant_id").references(() => tenants.id, { onDelete: "restrict" }),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    // A generated first password must be replaced before anything else is done.
    mustChangePassword: integer("must_change_password", { mode: "boolean" }).notNull().default(false),
    // Bumped when the password changes or the user is disabled: older sessions stop working.
    sessionVersion: integer("session_version").notNull().default(0),
    ...timestamps,
  },
  (t) => [
    // A tenant's admins by email (the tenant page, a tenant admin's Users page).
    index("users_tenant_email_idx").on(t.tenantId, t.email),
    check(
      "users_role_tenant",
      sql`(${t.role} = 'super_admin' AND ${t.tenantId} IS NULL) OR (${t.role} = 'tenant_admin' AND ${t.tenantId} IS NOT NULL)`,
    ),
  ],
);

export const signInAttempts = sqliteTable(
  "sign_in_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email").notNull(),
    // The client address the attempt came from ("" when unknown); failures count per email and per pair.
    client: text("client").notNull().default(""),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    succeeded: integer("succeeded", { mode: "boolean" }).notNull(),
  },
  (t) => [index("sign_in_attempts_email_at_idx").on(t.email, t.at)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    actorId: integer("actor_id"),
    actorEmail: text("actor_email").notNull(),
    tenantId: integer("tenant_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    targetLabel: text("target_label").notNull(),
    changes: text("changes", { mode: "json" }).$type<Record<string, AuditChange>>().notNull(),
  },
  (t) => [index("audit_log_tenant_at_idx").on(t.tenantId, t.at)],
);

/** One row, rewritten by GET /api/health to prove the database accepts writes. */
export const healthChecks = sqliteTable("health_checks", {
  id: integer("id").primaryKey(),
  at: integer("at", { mode: "timestamp_ms" }).notNull(),
});

export const mailboxes = sqliteTable(
  "mailboxes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    type: text("type", { enum: MAILBOX_TYPES }).notNull(),
    // SMTP and IMAP (the setup guide's), or Microsoft Graph; the servers stay stored either way.
    transport: text("transport", { enum: MAIL_TRANSPORTS }).notNull().default("smtp_imap"),
    login: text("login").notNull(),
    // The mailbox read and tested when it is not the Login's own (a shared mailbox); null: the Login.
    mailboxAddress: text("mailbox_address"),
    // The From address when it is not the Mailbox (an alias, Send As or Send on Behalf); null: the Mailbox.
    sendAs: text("send_as"),
    // Sealed with lib/crypto/seal.ts; the page only ever learns whether it is set.
    passwordSealed: text("password_sealed"),
    passwordChangedAt: integer("password_changed_at", { mode: "timestamp_ms" }),
    passwordChangedBy: text("password_changed_by"),
    smtpHost: text("smtp_host"),
    smtpPort: integer("smtp_port"),
    imapHost: text("imap_host"),
    imapPort: integer("imap_port"),
    useTls: integer("use_tls", { mode: "boolean" }).notNull(),
    azureClientId: text("azure_client_id"),
    azureTenantId: text("azure_tenant_id"),
    cloud: text("cloud", { enum: CLOUDS }).notNull().default("global"),
    // How the mailbox signs in: the setup guide's password (plain login without Azure fields), or app-only.
    signInMethod: text("sign_in_method", { enum: SIGN_IN_METHODS }).notNull().default("password"),
    // App-only: a client secret, or a certificate (public, shown to the admin) with its private key.
    clientSecretSealed: text("client_secret_sealed"),
    certificatePem: text("certificate_pem"),
    privateKeySealed: text("private_key_sealed"),
    appCredentialExpiresAt: integer("app_credential_expires_at", { mode: "timestamp_ms" }),
    appCredentialChangedAt: integer("app_credential_changed_at", { mode: "timestamp_ms" }),
    appCredentialChangedBy: text("app_credential_changed_by"),
    // Microsoft sign-in (device code): who signed in, when and by whose hand; the tokens are in token_caches.
    signedInAccount: text("signed_in_account"),
    signedInAt: integer("signed_in_at", { mode: "timestamp_ms" }),
    signedInBy: text("signed_in_by"),
    // Set when Entra refused the stored sign-in (expired, revoked): the mailbox needs "Sign in again".
    signInLostAt: integer("sign_in_lost_at", { mode: "timestamp_ms" }),
    signInLostCode: text("sign_in_lost_code"),
    // Monitoring: null follows the tenant; the times are when the scheduler last started each kind.
    monitorLight: text("monitor_light", { enum: MONITOR_FREQUENCIES }),
    monitorFull: text("monitor_full", { enum: MONITOR_FREQUENCIES }),
    lastMonitorLightAt: integer("last_monitor_light_at", { mode: "timestamp_ms" }),
    lastMonitorFullAt: integer("last_monitor_full_at", { mode: "timestamp_ms" }),
    // The outcome of the latest test of the saved settings, and since when it has been so (status page, alerts).
    health: text("health", { enum: ["unknown", "healthy", "failing"] })
      .notNull()
      .default("unknown"),
    healthSince: integer("health_since", { mode: "timestamp_ms" }),
    lastTestAt: integer("last_test_at", { mode: "timestamp_ms" }),
    lastFailureCode: text("last_failure_code"),
    // The oldest TLS version the last test's mail connections negotiated ("TLSv1.2"); null without TLS.
    lastTlsVersion: text("last_tls_version"),
    // Alerts: the state last alerted about (null: none yet), since when, and when the last alert or reminder went out.
    alertState: text("alert_state", { enum: ALERT_STATES }),
    alertStateSince: integer("alert_state_since", { mode: "timestamp_ms" }),
    lastAlertAt: integer("last_alert_at", { mode: "timestamp_ms" }),
    // Optimistic concurrency: every save must name the version it started from.
    version: integer("version").notNull().default(1),
    updatedBy: text("updated_by").notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("mailboxes_tenant_name_unique").on(t.tenantId, t.name),
    index("mailboxes_tenant_health_idx").on(t.tenantId, t.health, t.healthSince),
  ],
);

/** The MSAL token cache of one mailbox, sealed; dropped when the sign-in settings change. */
export const tokenCaches = sqliteTable("token_caches", {
  mailboxId: integer("mailbox_id")
    .primaryKey()
    .references(() => mailboxes.id, { onDelete: "cascade" }),
  // Hash of everything that decides where the token goes (lib/mailbox/token-cache-store.ts); a mismatch means "start over".
  fingerprint: text("fingerprint").notNull(),
  cacheSealed: text("cache_sealed").notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * One "Sign in with Microsoft" of a mailbox. The process that started it polls Entra and writes here;
 * any process answers the page's status requests from here. The device code itself never leaves memory.
 */
export const deviceSignIns = sqliteTable(
  "device_sign_ins",
  {
    // Random and unguessable: it names the sign-in in URLs.
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id").notNull(),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    // The mailbox version the sign-in is for; a save in between means its tokens are not stored.
    mailboxVersion: integer("mailbox_version").notNull(),
    startedBy: text("started_by").notNull(),
    startedById: integer("started_by_id"),
    status: text("status", { enum: DEVICE_SIGN_IN_STATUSES }).notNull(),
    userCode: text("user_code"),
    verificationUri: text("verification_uri"),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    // The last "keep polling" answer: authorization_pending or slow_down.
    lastAnswer: text("last_answer"),
    polledAt: integer("polled_at", { mode: "timestamp_ms" }),
    failureCode: text("failure_code"),
    failureDetail: text("failure_detail"),
    account: text("account"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    // Entra's device code and its prompt, sealed: any process may go on polling with it.
    deviceCodeSealed: text("device_code_sealed"),
    // The process polling now, until when: past it, another process takes the poll over.
    pollerId: text("poller_id"),
    pollerUntil: integer("poller_until", { mode: "timestamp_ms" }),
    // A move of a password-grant mailbox to the Microsoft sign-in: the mailbox switches only once a
    // test with the new sign-in passed, and stays as it was otherwise.
    move: integer("move", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("device_sign_ins_mailbox_created_idx").on(t.mailboxId, t.createdAt),
    index("device_sign_ins_status_tenant_idx").on(t.status, t.tenantId),
  ],
);

/**
 * A tenant's key for the business-system API (/api/v1). The key is shown once; only the SHA-256 of its
 * secret part is stored, found by its public id. Revoked keys stay for the audit trail.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // The public part of the key ("nvm_" + 12 characters), shown in lists and logs.
    publicId: text("public_id").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<ApiScope[]>().notNull(),
    // The mailboxes the key is limited to; null for every mailbox of the tenant.
    mailboxIds: text("mailbox_ids", { mode: "json" }).$type<number[] | null>(),
    // The one protocol the key's tokens are for ("smtp" or "imap"); null for both.
    tokenPurpose: text("token_purpose", { enum: TOKEN_PURPOSES }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    revokedBy: text("revoked_by"),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    lastUsedFrom: text("last_used_from"),
  },
  (t) => [
    index("api_keys_tenant_idx").on(t.tenantId),
    uniqueIndex("api_keys_tenant_name_unique").on(t.tenantId, t.name),
  ],
);

/**
 * The last access token each key was given for each mailbox: a new token is audited, the same token
 * handed out again only counts here, so a consumer asking every minute does not flood the audit log.
 */
export const apiTokenIssues = sqliteTable(
  "api_token_issues",
  {
    apiKeyId: integer("api_key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    tokenExpiresAt: integer("token_expires_at", { mode: "timestamp_ms" }).notNull(),
    issued: integer("issued").notNull(),
    lastAt: integer("last_at", { mode: "timestamp_ms" }).notNull(),
    // When an issue was last written to the audit log: at most one entry a minute per key and mailbox.
    auditedAt: integer("audited_at", { mode: "timestamp_ms" }),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.mailboxId] })],
);

/**
 * Messages sent through the API (never their content): the answer to an Idempotency-Key for 24 hours,
 * and the count behind each mailbox's sending rate, shared by every instance of the portal.
 */
export const apiMessages = sqliteTable(
  "api_messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: integer("tenant_id").notNull(),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    apiKeyId: integer("api_key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    idempotencyKey: text("idempotency_key"),
    // SHA-256 of the request: the same key with another request is refused, not answered.
    requestHash: text("request_hash").notNull(),
    messageId: text("message_id").notNull(),
    status: text("status", { enum: API_MESSAGE_STATUSES }).notNull(),
    // The answer as sent (status and JSON body), repeated for the same Idempotency-Key.
    answerStatus: integer("answer_status"),
    answer: text("answer", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("api_messages_key_idempotency_idx").on(t.apiKeyId, t.idempotencyKey),
    index("api_messages_mailbox_created_idx").on(t.mailboxId, t.createdAt),
  ],
);

/**
 * Where a tenant's alerts go. A webhook's URL and signing secret are sealed together (a Teams or
 * Slack URL is itself a credential); the page shows only the host. An email channel names its
 * recipients and the mailbox it sends from.
 */
export const alertChannels = sqliteTable(
  "alert_channels",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ALERT_CHANNEL_KINDS }).notNull(),
    name: text("name").notNull(),
    webhookHost: text("webhook_host"),
    webhookSealed: text("webhook_sealed"),
    recipients: text("recipients", { mode: "json" }).$type<string[]>(),
    // The tenant's mailbox that sends (null once it is deleted), or the portal's alert sender.
    senderMailboxId: integer("sender_mailbox_id").references(() => mailboxes.id, { onDelete: "set null" }),
    portalSender: integer("portal_sender", { mode: "boolean" }).notNull().default(false),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    // The latest delivery's outcome, shown beside the channel.
    lastDeliveryAt: integer("last_delivery_at", { mode: "timestamp_ms" }),
    lastDeliveryOk: integer("last_delivery_ok", { mode: "boolean" }),
    lastError: text("last_error"),
  },
  (t) => [uniqueIndex("alert_channels_tenant_name_unique").on(t.tenantId, t.name)],
);

/** One alert about one mailbox (or a channel's test alert), with the words every channel sends. */
export const alerts = sqliteTable(
  "alerts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    mailboxId: integer("mailbox_id").references(() => mailboxes.id, { onDelete: "set null" }),
    mailboxName: text("mailbox_name"),
    kind: text("kind", { enum: ALERT_KINDS }).notNull(),
    state: text("state", { enum: ALERT_STATES }).notNull(),
    previousState: text("previous_state", { enum: ALERT_STATES }),
    code: text("code"),
    title: text("title").notNull(),
    detail: text("detail").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("alerts_tenant_created_idx").on(t.tenantId, t.createdAt), index("alerts_created_idx").on(t.createdAt)],
);

/** One alert to one channel: retried with backoff until delivered or out of attempts. */
export const alertDeliveries = sqliteTable(
  "alert_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    alertId: integer("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    channelId: integer("channel_id")
      .notNull()
      .references(() => alertChannels.id, { onDelete: "cascade" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull(),
    // A process sending this delivery holds it until then, so two never send it at once.
    claimedUntil: integer("claimed_until", { mode: "timestamp_ms" }),
    lastError: text("last_error"),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("alert_deliveries_status_next_idx").on(t.status, t.nextAttemptAt),
    index("alert_deliveries_alert_idx").on(t.alertId),
    index("alert_deliveries_channel_idx").on(t.channelId),
  ],
);

/**
 * "Set up in Microsoft Entra for me" for one mailbox (or the tenant's default app registration): the device-code sign-in as the tenant's admin,
 * the plan it showed, each step done (with Graph's object IDs) and the test that proved it. The Graph
 * token is never stored: it stays in the memory of the process that signed in.
 */
export const entraSetups = sqliteTable(
  "entra_setups",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    // The mailbox the app is for; null for the tenant's default app registration.
    mailboxId: integer("mailbox_id").references(() => mailboxes.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["delegated", "app"] }).notNull(),
    // The mailbox's transport: Exchange Online's permissions (SMTP and IMAP) or Microsoft Graph's.
    transport: text("transport", { enum: MAIL_TRANSPORTS }).notNull().default("smtp_imap"),
    appName: text("app_name").notNull(),
    directory: text("directory").notNull(),
    // The Microsoft cloud of the organisation: its Graph and sign-in hosts.
    cloud: text("cloud", { enum: CLOUDS }).notNull().default("global"),
    status: text("status", { enum: ENTRA_SETUP_STATUSES }).notNull(),
    userCode: text("user_code"),
    verificationUri: text("verification_uri"),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    admin: text("admin"),
    directoryId: text("directory_id"),
    steps: text("steps", { mode: "json" }).$type<{ key: string; label: string; done: boolean; objectId?: string }[]>(),
    appId: text("app_id"),
    // The app's Enterprise application (service principal), for the Exchange PowerShell of app-only.
    servicePrincipalId: text("service_principal_id"),
    // App-only: the certificate made for the new app, its private key sealed, until a test proves the
    // app and both move into the mailbox.
    certificatePem: text("certificate_pem"),
    privateKeySealed: text("private_key_sealed"),
    // The admin's Graph token, sealed, until the setup ends: any process may confirm the plan with it.
    graphTokenSealed: text("graph_token_sealed"),
    graphTokenUntil: integer("graph_token_until", { mode: "timestamp_ms" }),
    testId: integer("test_id"),
    // The app registration this setup registered (its object ID), offered for deletion when a later
    // step fails; and when it was deleted.
    createdApplicationId: text("created_application_id"),
    applicationDeletedAt: integer("application_deleted_at", { mode: "timestamp_ms" }),
    failureCode: text("failure_code"),
    failureDetail: text("failure_detail"),
    startedBy: text("started_by").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("entra_setups_mailbox_created_idx").on(t.mailboxId, t.createdAt),
    index("entra_setups_tenant_created_idx").on(t.tenantId, t.createdAt),
  ],
);

/** One test of a mailbox ("Send test email", the command line), with its steps as reported (already redacted). */
export const mailboxTests = sqliteTable(
  "mailbox_tests",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    tenantId: integer("tenant_id").notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    outcome: text("outcome", { enum: TEST_OUTCOMES }).notNull(),
    // "saved" settings, unsaved "form" values, a "token" request of the API that Microsoft refused, or
    // a "trial" of the saved settings over the other transport (what proves a switch)
    source: text("source", { enum: ["saved", "form", "token", "trial"] }).notNull(),
    // "full" sends and receives a message; "light" only signs in (the hourly monitoring).
    mode: text("mode", { enum: ["full", "light"] })
      .notNull()
      .default("full"),
    triggeredBy: text("triggered_by").notNull(),
    triggeredById: integer("triggered_by_id"),
    steps: text("steps", { mode: "json" }).$type<StepResult[]>().notNull(),
    // Hash of the credentials used; a credential failure cools down only these credentials.
    credentialFingerprint: text("credential_fingerprint").notNull(),
    failureCode: text("failure_code"),
    arrivalMs: integer("arrival_ms"),
  },
  (t) => [
    index("mailbox_tests_mailbox_started_idx").on(t.mailboxId, t.startedAt),
    index("mailbox_tests_user_started_idx").on(t.triggeredById, t.startedAt),
    index("mailbox_tests_outcome_tenant_idx").on(t.outcome, t.tenantId, t.startedAt),
  ],
);
