import "server-only";
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import pLimit, { type LimitFunction } from "p-limit";

// Format: scrypt$N$r$p$salt$hash (base64). Parameters travel with the hash so they can be raised later.
// N = 2^17 with r = 8 uses 128 MiB and is the current recommendation for scrypt; older hashes
// (N = 2^14) still verify and are upgraded at the next successful sign-in.
const N = 2 ** 17;
const R = 8;
const P = 1;
const KEYLEN = 32;

/**
 * One hash costs about 0.65 s of a core and 128 MiB, and runs on Node's thread pool, which DNS look-ups
 * and file reads share: at most this many run at once in the process, and at most HASHING_QUEUE wait.
 */
export const HASHING_AT_ONCE = 2;
const HASHING_QUEUE = 8;
/** Hashes running and waiting together, at most. */
export const HASHING_CAPACITY = HASHING_AT_ONCE + HASHING_QUEUE;
/** How long a refused sign-in is asked to wait: about what the queue takes to drain. */
export const HASHING_RETRY_AFTER_SECONDS = 5;

/** Too many passwords are being hashed already; the caller answers 503 with Retry-After. */
export class HashingBusyError extends Error {
  override name = "HashingBusyError";
}

const shared = globalThis as unknown as { navigatorHashing?: { limit: LimitFunction; peak: number } };
shared.navigatorHashing ??= { limit: pLimit(HASHING_AT_ONCE), peak: 0 };
const hashing = shared.navigatorHashing;

/** Whether a new hash would have to be refused now. */
export function hashingIsFull(): boolean {
  return hashing.limit.activeCount + hashing.limit.pendingCount >= HASHING_CAPACITY;
}

/** The most hashes that ran at once since the process started (for tests and benchmarks). */
export function hashingPeak(): number {
  return hashing.peak;
}

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  if (hashingIsFull()) return Promise.reject(new HashingBusyError("Too many sign-ins at once."));
  return hashing.limit(() => {
    hashing.peak = Math.max(hashing.peak, hashing.limit.activeCount);
    return new Promise<Buffer>((resolve, reject) =>
      scrypt(password.normalize("NFKC"), salt, KEYLEN, { ...options, maxmem: 256 * 1024 * 1024 }, (err, key) =>
        err ? reject(err) : resolve(key),
      ),
    );
  });
}

export async function hashPassword(password: string, cost = N): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, { N: cost, r: R, p: P });
  return ["scrypt", cost, R, P, salt.toString("base64"), hash.toString("base64")].join("$");
}

/** A hash made with weaker parameters than today's, to be replaced once the password is known. */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split("$");
  return scheme !== "scrypt" || Number(n) < N || Number(r) < R || Number(p) < P;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = await derive(password, Buffer.from(salt, "base64"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// Verifying against this when the email is unknown keeps response times alike.
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(12).toString("base64"));
  return dummyHash;
}

export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}
