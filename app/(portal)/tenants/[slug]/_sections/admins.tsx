import Link from "next/link";
import type { Db } from "@/db/client";
import type { Tenant } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { listUsersPage } from "@/lib/users/queries";

export async function AdminsSection({ db, actor, tenant }: { db: Db; actor: UserActor; tenant: Tenant }) {
  const admins = (await listUsersPage(db, actor, { tenantId: tenant.id })).rows;
  return (
    <section aria-labelledby="admins">
      <h2 id="admins">Tenant admins</h2>
      {admins.length === 0 ? (
        <p className="empty">
          No tenant admins yet.{" "}
          <Link prefetch={false} href="/users">
            Add one on the Users page.
          </Link>
        </p>
      ) : (
        <ul className="plain">
          {admins.map((user) => (
            <li key={user.id}>
              {user.name} &lt;{user.email}&gt;{user.disabled && <span className="badge badge-off">disabled</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
