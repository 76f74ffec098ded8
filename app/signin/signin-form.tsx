"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { signInWithCredentials } from "@/lib/auth/client";

export function SignInForm() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [email, setEmail] = useState("");

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const failure = await signInWithCredentials(String(form.get("email") ?? ""), String(form.get("password") ?? ""));
    setPending(false);
    if (failure) {
      setError(failure);
      return;
    }
    router.replace("/");
    router.refresh();
  }

  return (
    // POST: a form sent before the page's script runs must not put the password into the address.
    <form method="post" onSubmit={onSubmit} className="form" aria-describedby={error ? "signin-error" : undefined}>
      <div className="field">
        <label htmlFor="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
      </div>
      <div className="form-actions">
        <button type="submit" disabled={pending} aria-busy={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </div>
      <p id="signin-error" role="alert" className="form-error">
        {error}
      </p>
    </form>
  );
}
