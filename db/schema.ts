// The tables of the database this process runs on. SQLite (schema.sqlite.ts) is the default; a
// postgres:// DATABASE_URL selects PostgreSQL (schema.pg.ts). Both are typed as SQLite's tables: the
// services build the same queries on either, and tests/db/schema-drift.test.ts keeps the two alike.
import * as pg from "./schema.pg";
import * as sqlite from "./schema.sqlite";
import { onPostgres } from "./url";

export * from "./values";

const tables = (onPostgres() ? pg : sqlite) as unknown as typeof sqlite;

export const {
  tenants,
  tenantDirectories,
  users,
  signInAttempts,
  auditLog,
  healthChecks,
  mailboxes,
  tokenCaches,
  deviceSignIns,
  apiKeys,
  apiTokenIssues,
  apiMessages,
  alertChannels,
  alerts,
  alertDeliveries,
  entraSetups,
  mailboxTests,
} = tables;

export type Tenant = typeof sqlite.tenants.$inferSelect;
export type TenantDirectory = typeof sqlite.tenantDirectories.$inferSelect;
export type User = typeof sqlite.users.$inferSelect;
export type AuditEntry = typeof sqlite.auditLog.$inferSelect;
export type Mailbox = typeof sqlite.mailboxes.$inferSelect;
export type DeviceSignIn = typeof sqlite.deviceSignIns.$inferSelect;
export type ApiKey = typeof sqlite.apiKeys.$inferSelect;
export type AlertChannel = typeof sqlite.alertChannels.$inferSelect;
export type Alert = typeof sqlite.alerts.$inferSelect;
export type AlertDelivery = typeof sqlite.alertDeliveries.$inferSelect;
export type EntraSetup = typeof sqlite.entraSetups.$inferSelect;
export type MailboxTest = typeof sqlite.mailboxTests.$inferSelect;
