import type { NextRequest } from "next/server";
import NextAuth from "next-auth";
import { getAuthOptions } from "@/lib/auth/options";
import { HASHING_RETRY_AFTER_SECONDS } from "@/lib/auth/password";
import { admitSignIn, SIGN_IN_MESSAGES } from "@/lib/auth/sign-in";

type Context = { params: Promise<{ nextauth: string[] }> };

function handler(request: NextRequest, context: Context) {
  return NextAuth(request, context, getAuthOptions());
}

/**
 * A sign-in hashes the password. When as many are under way as the hashing may run and queue, another
 * is answered 503 at once, before it is counted as an attempt or queued.
 */
async function post(request: NextRequest, context: Context) {
  const { nextauth } = await context.params;
  if (nextauth[0] !== "callback") return handler(request, context);
  const release = admitSignIn();
  if (!release) {
    const error = SIGN_IN_MESSAGES.busy;
    // The sign-in page's client (next-auth) reads the error from `url`, as from its own answers.
    const url = new URL(`/signin?error=${encodeURIComponent(error)}`, request.nextUrl.origin).toString();
    return Response.json(
      { error, url },
      { status: 503, headers: { "retry-after": String(HASHING_RETRY_AFTER_SECONDS), "cache-control": "no-store" } },
    );
  }
  try {
    return await handler(request, context);
  } finally {
    release();
  }
}

export { handler as GET, post as POST };
