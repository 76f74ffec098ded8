import Link from "next/link";
import { isSuperAdmin, type UserActor } from "@/lib/auth/actor";

/**
 * The portal's frame around every signed-in page: the skip link, the main navigation and who is
 * signed in, with a plain sign-out form (signing out needs no JavaScript in the page).
 */
export function PortalChrome({
  actor,
  csrfToken,
  children,
}: {
  actor: UserActor;
  csrfToken: string | null;
  children: React.ReactNode;
}) {
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link prefetch={false} href="/" className="brand">
          Navigator Mail
        </Link>
        <nav aria-label="Main">
          <Link prefetch={false} href="/status">
            Status
          </Link>
          <Link prefetch={false} href="/alerts">
            Alerts
          </Link>
          <Link prefetch={false} href="/tenants">
            {isSuperAdmin(actor) ? "Tenants" : "My tenant"}
          </Link>
          {isSuperAdmin(actor) && (
            <Link prefetch={false} href="/migration">
              Migration
            </Link>
          )}
          <Link prefetch={false} href="/users">
            Users
          </Link>
          <Link prefetch={false} href="/audit">
            Audit log
          </Link>
          <Link prefetch={false} href="/account">
            Account
          </Link>
        </nav>
        <div className="who">
          <span title={actor.role === "super_admin" ? "Super-admin" : "Tenant admin"}>{actor.email}</span>
          <form method="post" action="/api/auth/signout" className="sign-out">
            {csrfToken && <input type="hidden" name="csrfToken" value={csrfToken} />}
            <input type="hidden" name="callbackUrl" value="/signin" />
            <button type="submit" className="link-button">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main id="main">{children}</main>
    </>
  );
}
