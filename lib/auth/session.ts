import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { decode } from "next-auth/jwt";
import { getDb } from "@/db/client";
import { getEnv } from "@/lib/env";
import { resolveActor, type SessionClaims, type UserActor } from "./actor";

/** The signed-in user for this request, re-checked against the database, or null. */
export async function currentActor(): Promise<UserActor | null> {
  const claims = await readSessionClaims();
  return claims ? await resolveActor(getDb(), claims) : null;
}

/**
 * The signed-in user, or a redirect to sign-in. A user who must replace a generated password is sent
 * to the Account page from everywhere except the places that serve that change.
 */
export async function requireActor(options: { duringPasswordChange?: boolean } = {}): Promise<UserActor> {
  const actor = await currentActor();
  if (!actor) redirect("/signin");
  if (actor.mustChangePassword && !options.duringPasswordChange) redirect("/account?change=required");
  return actor;
}

// next-auth's session cookie: "__Secure-" when served over https, plain otherwise.
const SESSION_COOKIES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

async function readSessionClaims(): Promise<SessionClaims | null> {
  const cookieStore = await cookies();
  const raw = SESSION_COOKIES.map((name) => cookieStore.get(name)?.value).find(Boolean);
  if (!raw) return null;
  const token = await decode({ token: raw, secret: getEnv().AUTH_SECRET }).catch(() => null);
  if (!token || typeof token.uid !== "number" || typeof token.sv !== "number" || typeof token.sat !== "number")
    return null;
  return { userId: token.uid, sessionVersion: token.sv, signedInAt: token.sat };
}

/** next-auth's CSRF token from its cookie ("token|hash"), for plain forms that post to /api/auth. */
export async function authCsrfToken(): Promise<string | null> {
  const cookieStore = await cookies();
  const cookie = cookieStore.get("__Host-next-auth.csrf-token") ?? cookieStore.get("next-auth.csrf-token");
  return cookie?.value.split("|")[0] ?? null;
}
