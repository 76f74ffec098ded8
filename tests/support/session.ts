import { encode } from "next-auth/jwt";
import type { UserActor } from "@/lib/auth/actor";

/**
 * Server actions and pages read the session cookie through next/headers; tests install a real
 * next-auth JWT, minted with the app's secret, in place of the request's cookie jar.
 */
export const sessionCookie: { value: string | undefined } = { value: undefined };

export async function signInAs(
  actor: Pick<UserActor, "id" | "email" | "name"> | null,
  options: { sessionVersion?: number; signedInAt?: number } = {},
): Promise<void> {
  if (!actor) {
    sessionCookie.value = undefined;
    return;
  }
  sessionCookie.value = await encode({
    secret: process.env.AUTH_SECRET!,
    token: {
      email: actor.email,
      name: actor.name,
      uid: actor.id,
      sv: options.sessionVersion ?? 0,
      sat: options.signedInAt ?? Date.now(),
    },
  });
}

export function nextHeadersMock() {
  return {
    cookies: async () => {
      const all = sessionCookie.value ? [{ name: "next-auth.session-token", value: sessionCookie.value }] : [];
      return { getAll: () => all, get: (name: string) => all.find((c) => c.name === name) };
    },
    headers: async () => new Headers(),
  };
}

/** What Next's notFound() and redirect() throw. */
export function digestOf(error: unknown): string {
  return String((error as { digest?: string })?.digest ?? error);
}
