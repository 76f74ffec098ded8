import Link from "next/link";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { SignOutButton } from "./sign-out-button";

export default async function PortalLayout({ children }: { children: React.ReactNode }) {
  const actor = await requireActor({ duringPasswordChange: true });
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
          <SignOutButton />
        </div>
      </header>
      <main id="main">{children}</main>
    </>
  );
}
