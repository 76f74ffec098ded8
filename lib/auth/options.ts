import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getDb } from "@/db/client";
import { getEnv } from "@/lib/env";
import { SESSION_MAX_AGE_SECONDS } from "./actor";
import { clientAddressOf } from "./client-address";
import { signInWithPassword } from "./sign-in";

// next-auth stays behind this module and session.ts; nothing else imports it on the server.

let options: NextAuthOptions | undefined;

export function getAuthOptions(): NextAuthOptions {
  options ??= {
    secret: getEnv().AUTH_SECRET,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    jwt: { maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin", error: "/signin" },
    logger: { error: (code) => console.error(`auth: ${code}`), warn: () => {}, debug: () => {} },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, request) {
          const client = clientAddressOf(request?.headers);
          const result = await signInWithPassword(getDb(), credentials?.email ?? "", credentials?.password ?? "", {
            client,
          });
          // The thrown message is what the sign-in page shows.
          if (!result.ok) throw new Error(result.message);
          const { user } = result;
          return { id: String(user.id), email: user.email, name: user.name, sessionVersion: user.sessionVersion };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.uid = Number(user.id);
          token.sv = (user as { sessionVersion?: number }).sessionVersion ?? 0;
          token.sat = Date.now();
        }
        return token;
      },
      session({ session, token }) {
        // Only the display name and email reach the browser.
        session.user = { name: token.name ?? null, email: token.email ?? null };
        return session;
      },
    },
  };
  return options;
}
