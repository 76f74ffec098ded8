import "server-only";
import { decode } from "next-auth/jwt";
import type { SessionClaims, UserActor } from "./actor";

/** A request's cookies by name: next/headers' store in Next.js, the Cookie header elsewhere. */
export type CookieLookup = (name: string) => string | undefined;

// next-auth's session cookie: "__Secure-" when served over https, plain otherwise.
const SESSION_COOKIES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

/** The claims of next-auth's session cookie, or null when there is none or it does not verify. */
export async function sessionClaimsFrom(cookie: CookieLookup, secret: string): Promise<SessionClaims | null> {
  const raw = SESSION_COOKIES.map(cookie).find(Boolean);
  if (!raw) return null;
  const token = await decode({ token: raw, secret }).catch(() => null);
  if (!token || typeof token.uid !== "number" || typeof token.sv !== "number" || typeof token.sat !== "number")
    return null;
  return { userId: token.uid, sessionVersion: token.sv, signedInAt: token.sat };
}

/** next-auth's CSRF token from its cookie ("token|hash"), for plain forms that post to /api/auth. */
export function authCsrfTokenFrom(cookie: CookieLookup): string | null {
  const value = cookie("__Host-next-auth.csrf-token") ?? cookie("next-auth.csrf-token");
  return value?.split("|")[0] ?? null;
}

/**
 * Where a page sends this visitor instead of showing itself, or null to show it: sign-in without a
 * session, and the Account page for a user who must first replace a generated password (except in
 * the places that serve that change).
 */
export function pageDetour(
  actor: UserActor | null,
  options: { duringPasswordChange?: boolean } = {},
): "/signin" | "/account?change=required" | null {
  if (!actor) return "/signin";
  if (actor.mustChangePassword && !options.duringPasswordChange) return "/account?change=required";
  return null;
}
