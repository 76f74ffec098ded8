import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { getEnv } from "@/lib/env";
import { resolveActor, type UserActor } from "./actor";
import { authCsrfTokenFrom, type CookieLookup, pageDetour, sessionClaimsFrom } from "./session-cookies";

/** The signed-in user for this request, re-checked against the database, or null. */
export async function currentActor(): Promise<UserActor | null> {
  const claims = await sessionClaimsFrom(await cookieLookup(), getEnv().AUTH_SECRET);
  return claims ? resolveActor(getDb(), claims) : null;
}

/**
 * The signed-in user, or a redirect to sign-in. A user who must replace a generated password is sent
 * to the Account page from everywhere except the places that serve that change.
 */
export async function requireActor(options: { duringPasswordChange?: boolean } = {}): Promise<UserActor> {
  const actor = await currentActor();
  const detour = pageDetour(actor, options);
  if (detour || !actor) redirect(detour ?? "/signin");
  return actor;
}

/** next-auth's CSRF token from its cookie, for plain forms that post to /api/auth. */
export async function authCsrfToken(): Promise<string | null> {
  return authCsrfTokenFrom(await cookieLookup());
}

async function cookieLookup(): Promise<CookieLookup> {
  const store = await cookies();
  return (name) => store.get(name)?.value;
}
