import type { FieldErrors } from "@/lib/action-result";

/**
 * Why a test may not start now. The kinds are the contract with every caller (page, API, command
 * line); each caller maps them to its own answer (HTTP status, exit code) in one place.
 */
export type Refusal =
  | { kind: "invalid"; message: string; fieldErrors: FieldErrors }
  | { kind: "busy"; message: string }
  /** Allowed to others, not to this caller (a key limited to one purpose). */
  | { kind: "forbidden"; message: string }
  | { kind: "capacity"; message: string; retryAfterSeconds: number }
  | { kind: "rate_limited"; message: string; retryAfterSeconds: number }
  | { kind: "cooldown"; message: string; retryAfterSeconds: number };

export type RefusalKind = Refusal["kind"];
