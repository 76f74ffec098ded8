import "server-only";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { getToken } from "next-auth/jwt";
import { getDb } from "@/db/client";
import { getEnv } from "@/lib/env";
import { resolveActor, type SessionClaims, type UserActor } from "./actor";

/** The signed-in user for this request, re-checked against the database, or null. */
export async function currentActor(): Promise<UserActor | null> {
  const claims = await readSessionClaims();
  return claims ? resolveActor(getDb(), claims) : null;
}

export async function requireActor(): Promise<UserActor> {
  const actor = await currentActor();
  if (!actor) redirect("/signin");
  return actor;
}

async function readSessionClaims(): Promise<SessionClaims | null> {
  const cookieStore = await cookies();
  const headerStore = await headers();
  const req = { headers: Object.fromEntries(headerStore.entries()), cookies: Object.fromEntries(cookieStore.getAll().map((c) => [c.name, c.value])) };
  const token = await getToken({ req: req as never, secret: getEnv().AUTH_SECRET });
  if (!token || typeof token.uid !== "number" || typeof token.sv !== "number" || typeof token.sat !== "number") return null;
  return { userId: token.uid, sessionVersion: token.sv, signedInAt: token.sat };
}

/** next-auth's CSRF token from its cookie ("token|hash"), for plain forms that post to /api/auth. */
export async function authCsrfToken(): Promise<string | null> {
  const cookieStore = await cookies();
  const cookie = cookieStore.get("__Host-next-auth.csrf-token") ?? cookieStore.get("next-auth.csrf-token");
  return cookie?.value.split("|")[0] ?? null;
}
