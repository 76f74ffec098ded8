// The values a column may hold, shared by both databases' schemas and the code that reads them.

/** How often the scheduler tests a mailbox: a light test (sign-in only) and a full send/receive test. */
export const MONITOR_FREQUENCIES = ["off", "hourly", "daily"] as const;
export type MonitorFrequency = (typeof MONITOR_FREQUENCIES)[number];

/** Where a mailbox stands for its alerts; "ok" is the quiet state the others recover to. */
export const ALERT_STATES = ["ok", "failing", "needs-sign-in", "expiring", "awaiting-sign-in"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const DIRECTORY_KINDS = ["tenant-id", "domain"] as const;

export const ROLES = ["super_admin", "tenant_admin"] as const;
export type Role = (typeof ROLES)[number];

export const DEVICE_SIGN_IN_STATUSES = ["starting", "pending", "succeeded", "failed", "cancelled"] as const;
export type DeviceSignInStatus = (typeof DEVICE_SIGN_IN_STATUSES)[number];

export const API_SCOPES = ["mailboxes:read", "tokens:issue", "tests:run", "mail:send"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const ALERT_KINDS = [
  "failing",
  "needs-sign-in",
  "expiring",
  "awaiting-sign-in",
  "recovered",
  "reminder",
  "test",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_CHANNEL_KINDS = ["webhook", "email"] as const;
export type AlertChannelKind = (typeof ALERT_CHANNEL_KINDS)[number];

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

export const ENTRA_SETUP_STATUSES = [
  "starting",
  "waiting",
  "planned",
  "applying",
  "applied",
  "done",
  "failed",
] as const;

export const TEST_OUTCOMES = ["running", "passed", "failed"] as const;

/** A message of the API's send operation: being sent, accepted by the server, or refused. */
export const API_MESSAGE_STATUSES = ["sending", "accepted", "failed"] as const;

export type AuditChange = { from?: unknown; to?: unknown } | "changed";
