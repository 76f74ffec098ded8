// The PostgreSQL twin of schema.sqlite.ts, table for table and column for column; tests/db/schema-drift.test.ts
// fails when the two differ. Times are milliseconds since the epoch in both databases (bigint here), so a
// query that compares a time with a number means the same on both.
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
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

/** A moment as milliseconds since the epoch, read back as a Date: what SQLite's timestamp_ms columns hold. */
const timestampMs = customType<{ data: Date; driverData: string | number }>({
  dataType: () => "bigint",
  toDriver: (value) => value.getTime(),
  fromDriver: (value) => new Date(Number(value)),
});

const timestamps = {
  createdAt: timestampMs("created_at")
    .notNull()
    .$defaultFn(() => new Date()),
  updatedAt: timestampMs("updated_at")
    .notNull()
    .$defaultFn(() => new Date()),
};

export const tenants = pgTable(
  "tenants",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    slug: text("slug").notNull().unique(),
    name: text("name").notNull(),
    defaultAzureClientId: text("default_azure_client_id"),
    defaultAzureTenantId: text("default_azure_tenant_id"),
    defaultCloud: text("default_cloud", { enum: CLOUDS }),
    monitorLight: text("monitor_light", { enum: MONITOR_FREQUENCIES }).notNull().default("hourly"),
    monitorFull: text("monitor_full", { enum: MONITOR_FREQUENCIES }).notNull().default("daily"),
    ...timestamps,
  },
  (t) => [index("tenants_name_idx").on(t.name, t.id)],
);

export const tenantDirectories = pgTable(
  "tenant_directories",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: DIRECTORY_KINDS }).notNull(),
    value: text("value").notNull(),
    source: text("source", { enum: ["first-sign-in", "super-admin"] }).notNull(),
    addedBy: text("added_by").notNull(),
    createdAt: timestampMs("created_at").notNull(),
  },
  (t) => [uniqueIndex("tenant_directories_unique").on(t.tenantId, t.kind, t.value)],
);

export const users = pgTable(
  "users",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    tenantId: integer("tenant_id").references(() => tenants.id, { onDelete: "restrict" }),
    disabled: boolean("disabled").notNull().default(false),
    mustChangePassword: boolean("must_change_password").notNull().default(false),
    sessionVersion: integer("session_version").notNull().default(0),
    ...timestamps,
  },
  (t) => [
    index("users_tenant_email_idx").on(t.tenantId, t.email),
    check(
      "users_role_tenant",
      sql`(${t.role} = 'super_admin' AND ${t.tenantId} IS NULL) OR (${t.role} = 'tenant_admin' AND ${t.tenantId} IS NOT NULL)`,
    ),
  ],
);

export const signInAttempts = pgTable(
  "sign_in_attempts",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    email: text("email").notNull(),
    client: text("client").notNull().default(""),
    at: timestampMs("at").notNull(),
    succeeded: boolean("succeeded").notNull(),
  },
  (t) => [index("sign_in_attempts_email_at_idx").on(t.email, t.at)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    at: timestampMs("at").notNull(),
    actorId: integer("actor_id"),
    actorEmail: text("actor_email").notNull(),
    tenantId: integer("tenant_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    targetLabel: text("target_label").notNull(),
    changes: jsonb("changes").$type<Record<string, AuditChange>>().notNull(),
  },
  (t) => [index("audit_log_tenant_at_idx").on(t.tenantId, t.at)],
);

export const healthChecks = pgTable("health_checks", {
  id: integer("id").primaryKey(),
  at: timestampMs("at").notNull(),
});

export const mailboxes = pgTable(
  "mailboxes",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
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
    passwordSealed: text("password_sealed"),
    passwordChangedAt: timestampMs("password_changed_at"),
    passwordChangedBy: text("password_changed_by"),
    smtpHost: text("smtp_host"),
    smtpPort: integer("smtp_port"),
    imapHost: text("imap_host"),
    imapPort: integer("imap_port"),
    useTls: boolean("use_tls").notNull(),
    azureClientId: text("azure_client_id"),
    azureTenantId: text("azure_tenant_id"),
    cloud: text("cloud", { enum: CLOUDS }).notNull().default("global"),
    signInMethod: text("sign_in_method", { enum: SIGN_IN_METHODS }).notNull().default("password"),
    clientSecretSealed: text("client_secret_sealed"),
    certificatePem: text("certificate_pem"),
    privateKeySealed: text("private_key_sealed"),
    appCredentialExpiresAt: timestampMs("app_credential_expires_at"),
    appCredentialChangedAt: timestampMs("app_credential_changed_at"),
    appCredentialChangedBy: text("app_credential_changed_by"),
    signedInAccount: text("signed_in_account"),
    signedInAt: timestampMs("signed_in_at"),
    signedInBy: text("signed_in_by"),
    signInLostAt: timestampMs("sign_in_lost_at"),
    signInLostCode: text("sign_in_lost_code"),
    monitorLight: text("monitor_light", { enum: MONITOR_FREQUENCIES }),
    monitorFull: text("monitor_full", { enum: MONITOR_FREQUENCIES }),
    lastMonitorLightAt: timestampMs("last_monitor_light_at"),
    lastMonitorFullAt: timestampMs("last_monitor_full_at"),
    health: text("health", { enum: ["unknown", "healthy", "failing"] })
      .notNull()
      .default("unknown"),
    healthSince: timestampMs("health_since"),
    lastTestAt: timestampMs("last_test_at"),
    lastFailureCode: text("last_failure_code"),
    // The oldest TLS version the last test's mail connections negotiated ("TLSv1.2"); null without TLS.
    lastTlsVersion: text("last_tls_version"),
    alertState: text("alert_state", { enum: ALERT_STATES }),
    alertStateSince: timestampMs("alert_state_since"),
    lastAlertAt: timestampMs("last_alert_at"),
    version: integer("version").notNull().default(1),
    updatedBy: text("updated_by").notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("mailboxes_tenant_name_unique").on(t.tenantId, t.name),
    index("mailboxes_tenant_health_idx").on(t.tenantId, t.health, t.healthSince),
  ],
);

export const tokenCaches = pgTable("token_caches", {
  mailboxId: integer("mailbox_id")
    .primaryKey()
    .references(() => mailboxes.id, { onDelete: "cascade" }),
  fingerprint: text("fingerprint").notNull(),
  cacheSealed: text("cache_sealed").notNull(),
  updatedAt: timestampMs("updated_at").notNull(),
});

export const deviceSignIns = pgTable(
  "device_sign_ins",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id").notNull(),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    mailboxVersion: integer("mailbox_version").notNull(),
    startedBy: text("started_by").notNull(),
    startedById: integer("started_by_id"),
    status: text("status", { enum: DEVICE_SIGN_IN_STATUSES }).notNull(),
    userCode: text("user_code"),
    verificationUri: text("verification_uri"),
    expiresAt: timestampMs("expires_at"),
    lastAnswer: text("last_answer"),
    polledAt: timestampMs("polled_at"),
    failureCode: text("failure_code"),
    failureDetail: text("failure_detail"),
    account: text("account"),
    createdAt: timestampMs("created_at").notNull(),
    finishedAt: timestampMs("finished_at"),
    // Entra's device code and its prompt, sealed: any process may go on polling with it.
    deviceCodeSealed: text("device_code_sealed"),
    // The process polling now, until when: past it, another process takes the poll over.
    pollerId: text("poller_id"),
    pollerUntil: timestampMs("poller_until"),
    move: boolean("move").notNull().default(false),
  },
  (t) => [
    index("device_sign_ins_mailbox_created_idx").on(t.mailboxId, t.createdAt),
    index("device_sign_ins_status_tenant_idx").on(t.status, t.tenantId),
  ],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    publicId: text("public_id").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    scopes: jsonb("scopes").$type<ApiScope[]>().notNull(),
    mailboxIds: jsonb("mailbox_ids").$type<number[] | null>(),
    tokenPurpose: text("token_purpose", { enum: TOKEN_PURPOSES }),
    expiresAt: timestampMs("expires_at"),
    createdBy: text("created_by").notNull(),
    createdAt: timestampMs("created_at").notNull(),
    revokedAt: timestampMs("revoked_at"),
    revokedBy: text("revoked_by"),
    lastUsedAt: timestampMs("last_used_at"),
    lastUsedFrom: text("last_used_from"),
  },
  (t) => [
    index("api_keys_tenant_idx").on(t.tenantId),
    uniqueIndex("api_keys_tenant_name_unique").on(t.tenantId, t.name),
  ],
);

export const apiTokenIssues = pgTable(
  "api_token_issues",
  {
    apiKeyId: integer("api_key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    tokenExpiresAt: timestampMs("token_expires_at").notNull(),
    issued: integer("issued").notNull(),
    lastAt: timestampMs("last_at").notNull(),
    auditedAt: timestampMs("audited_at"),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.mailboxId] })],
);

export const apiMessages = pgTable(
  "api_messages",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    tenantId: integer("tenant_id").notNull(),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    apiKeyId: integer("api_key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash").notNull(),
    messageId: text("message_id").notNull(),
    status: text("status", { enum: API_MESSAGE_STATUSES }).notNull(),
    answerStatus: integer("answer_status"),
    answer: jsonb("answer").$type<Record<string, unknown>>(),
    createdAt: timestampMs("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("api_messages_key_idempotency_idx").on(t.apiKeyId, t.idempotencyKey),
    index("api_messages_mailbox_created_idx").on(t.mailboxId, t.createdAt),
  ],
);

export const alertChannels = pgTable(
  "alert_channels",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ALERT_CHANNEL_KINDS }).notNull(),
    name: text("name").notNull(),
    webhookHost: text("webhook_host"),
    webhookSealed: text("webhook_sealed"),
    recipients: jsonb("recipients").$type<string[]>(),
    senderMailboxId: integer("sender_mailbox_id").references(() => mailboxes.id, { onDelete: "set null" }),
    portalSender: boolean("portal_sender").notNull().default(false),
    createdBy: text("created_by").notNull(),
    createdAt: timestampMs("created_at").notNull(),
    lastDeliveryAt: timestampMs("last_delivery_at"),
    lastDeliveryOk: boolean("last_delivery_ok"),
    lastError: text("last_error"),
  },
  (t) => [uniqueIndex("alert_channels_tenant_name_unique").on(t.tenantId, t.name)],
);

export const alerts = pgTable(
  "alerts",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
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
    createdAt: timestampMs("created_at").notNull(),
  },
  (t) => [index("alerts_tenant_created_idx").on(t.tenantId, t.createdAt), index("alerts_created_idx").on(t.createdAt)],
);

export const alertDeliveries = pgTable(
  "alert_deliveries",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    alertId: integer("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    channelId: integer("channel_id")
      .notNull()
      .references(() => alertChannels.id, { onDelete: "cascade" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestampMs("next_attempt_at").notNull(),
    claimedUntil: timestampMs("claimed_until"),
    lastError: text("last_error"),
    deliveredAt: timestampMs("delivered_at"),
  },
  (t) => [
    index("alert_deliveries_status_next_idx").on(t.status, t.nextAttemptAt),
    index("alert_deliveries_alert_idx").on(t.alertId),
    index("alert_deliveries_channel_idx").on(t.channelId),
  ],
);

export const entraSetups = pgTable(
  "entra_setups",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    mailboxId: integer("mailbox_id").references(() => mailboxes.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["delegated", "app"] }).notNull(),
    // The mailbox's transport: Exchange Online's permissions (SMTP and IMAP) or Microsoft Graph's.
    transport: text("transport", { enum: MAIL_TRANSPORTS }).notNull().default("smtp_imap"),
    appName: text("app_name").notNull(),
    directory: text("directory").notNull(),
    cloud: text("cloud", { enum: CLOUDS }).notNull().default("global"),
    status: text("status", { enum: ENTRA_SETUP_STATUSES }).notNull(),
    userCode: text("user_code"),
    verificationUri: text("verification_uri"),
    expiresAt: timestampMs("expires_at"),
    admin: text("admin"),
    directoryId: text("directory_id"),
    steps: jsonb("steps").$type<{ key: string; label: string; done: boolean; objectId?: string }[]>(),
    appId: text("app_id"),
    servicePrincipalId: text("service_principal_id"),
    certificatePem: text("certificate_pem"),
    privateKeySealed: text("private_key_sealed"),
    // The admin's Graph token, sealed, until the setup ends: any process may confirm the plan with it.
    graphTokenSealed: text("graph_token_sealed"),
    graphTokenUntil: timestampMs("graph_token_until"),
    testId: integer("test_id"),
    createdApplicationId: text("created_application_id"),
    applicationDeletedAt: timestampMs("application_deleted_at"),
    failureCode: text("failure_code"),
    failureDetail: text("failure_detail"),
    startedBy: text("started_by").notNull(),
    createdAt: timestampMs("created_at").notNull(),
    finishedAt: timestampMs("finished_at"),
  },
  (t) => [
    index("entra_setups_mailbox_created_idx").on(t.mailboxId, t.createdAt),
    index("entra_setups_tenant_created_idx").on(t.tenantId, t.createdAt),
  ],
);

export const mailboxTests = pgTable(
  "mailbox_tests",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    tenantId: integer("tenant_id").notNull(),
    startedAt: timestampMs("started_at").notNull(),
    finishedAt: timestampMs("finished_at"),
    outcome: text("outcome", { enum: TEST_OUTCOMES }).notNull(),
    source: text("source", { enum: ["saved", "form", "token", "trial"] }).notNull(),
    mode: text("mode", { enum: ["full", "light"] })
      .notNull()
      .default("full"),
    triggeredBy: text("triggered_by").notNull(),
    triggeredById: integer("triggered_by_id"),
    steps: jsonb("steps").$type<StepResult[]>().notNull(),
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
