import type { Diagnosis } from "./diagnoses";
import type { CheckSettings } from "./settings";

/**
 * Where a provider keeps MSAL's serialized cache between checks. The caller owns persistence: it binds
 * the store to the exact settings the cache is made for and decides whether a write may still land.
 */
export type TokenCacheStore = {
  read(): Promise<string | null>;
  write(serialized: string): Promise<void>;
};

/** A cache held in memory only (a sign-in not stored yet), starting from `serialized`; `current()` reads it back. */
export function memoryTokenCache(serialized: string | null = null): TokenCacheStore & { current(): string | null } {
  let held = serialized;
  return {
    read: async () => held,
    write: async (value) => {
      held = value;
    },
    current: () => held,
  };
}

/** What the claims step verifies in a token: delegated scopes for a user, or application roles. */
export type ClaimsExpectation =
  | { kind: "delegated"; scopes: string[]; resource: string; user: string }
  | { kind: "application"; roles: string[]; resource: string };

export type TokenSource = "cache" | "refresh" | "grant";

type AcquiredToken = {
  accessToken: string;
  expiresOn: Date | null;
  source: TokenSource;
  /** The user named in SASL XOAUTH2: the signed-in user, or the mailbox for app-only tokens. */
  xoauth2User: string;
  expect: ClaimsExpectation;
};

export type AcquireResult = (({ ok: true } & AcquiredToken) | { ok: false; diagnosis: Diagnosis }) & {
  requests: number;
};

export type AcquireRequest = {
  settings: CheckSettings;
  authorityHost: string;
  cache?: TokenCacheStore;
  timeoutMs?: number;
  /** Runs after a token request and before the cache is written; tests use it to force interleavings. */
  beforeCacheWrite?: () => Promise<void>;
};

/** One way of signing in to Microsoft Entra ID for a mailbox; the engine never knows which flow ran. */
export type CredentialProvider = {
  /** How the step reports a token that needed a request ("with the password grant"). */
  grantLabel: string;
  acquire(request: AcquireRequest): Promise<AcquireResult>;
};
