"use client";

import { signOutToSignIn } from "@/lib/auth/client";

export function SignOutButton() {
  return (
    <button type="button" className="link-button" onClick={() => void signOutToSignIn()}>
      Sign out
    </button>
  );
}
