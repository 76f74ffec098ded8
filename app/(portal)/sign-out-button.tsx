import { authCsrfToken } from "@/lib/auth/session";

/** A plain form: signing out needs no JavaScript in the page. */
export async function SignOutButton() {
  const csrfToken = await authCsrfToken();
  return (
    <form method="post" action="/api/auth/signout" className="sign-out">
      {csrfToken && <input type="hidden" name="csrfToken" value={csrfToken} />}
      <input type="hidden" name="callbackUrl" value="/signin" />
      <button type="submit" className="link-button">
        Sign out
      </button>
    </form>
  );
}
