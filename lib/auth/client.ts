"use client";

// The browser side of sign-in; the rest of the app does not import next-auth directly.
import { signIn } from "next-auth/react";

const UNKNOWN_ERROR = "Sign-in failed. Try again.";

export async function signInWithCredentials(email: string, password: string): Promise<string | null> {
  const result = await signIn("credentials", { email, password, redirect: false });
  if (!result) return UNKNOWN_ERROR;
  if (result.ok && !result.error) return null;
  // next-auth reports a refused authorize() with its message, and some failures only by name.
  if (!result.error || result.error === "CredentialsSignin") return "Email or password is incorrect.";
  return result.error;
}
