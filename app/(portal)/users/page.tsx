import type { Metadata } from "next";
import { ActionForm, Field, SelectField } from "@/app/_components/action-form";
import { getDb } from "@/db/client";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { listTenantsFor } from "@/lib/tenants/queries";
import { listUsersFor } from "@/lib/users/queries";
import { PASSWORD_MIN } from "@/lib/users/schema";
import { createUserAction, setUserDisabledAction } from "./actions";

export const metadata: Metadata = { title: "Users" };

const ROLE_LABELS = { super_admin: "Super-admin", tenant_admin: "Tenant admin" } as const;

export default async function UsersPage() {
  const actor = await requireActor();
  const db = getDb();
  const users = listUsersFor(db, actor);
  const tenants = listTenantsFor(db, actor);
  const superAdmin = isSuperAdmin(actor);
  return (
    <>
      <h1>Users</h1>
      <table>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Tenant</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td>{user.email}</td>
              <td>{user.name}</td>
              <td>{ROLE_LABELS[user.role]}</td>
              <td>{user.tenantName ?? "—"}</td>
              <td>
                {user.disabled ? (
                  <span className="badge badge-off">Disabled</span>
                ) : (
                  <span className="badge badge-on">Active</span>
                )}
              </td>
              <td>
                {user.id !== actor.id && (
                  <ActionForm
                    action={setUserDisabledAction}
                    inline
                    submitLabel={user.disabled ? `Enable ${user.email}` : `Disable ${user.email}`}
                    pendingLabel="…"
                  >
                    <input type="hidden" name="userId" value={user.id} />
                    <input type="hidden" name="disabled" value={user.disabled ? "false" : "true"} />
                  </ActionForm>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <section aria-labelledby="new-user">
        <h2 id="new-user">New user</h2>
        <ActionForm action={createUserAction} submitLabel="Create user" pendingLabel="Creating…">
          <Field name="email" label="Email" type="email" autoComplete="off" maxLength={254} />
          <Field name="name" label="Name" maxLength={100} />
          {superAdmin ? (
            <>
              <SelectField
                name="role"
                label="Role"
                defaultValue="tenant_admin"
                hint="A tenant admin manages one tenant; a super-admin manages every tenant and user."
                options={[
                  { value: "tenant_admin", label: ROLE_LABELS.tenant_admin },
                  { value: "super_admin", label: ROLE_LABELS.super_admin },
                ]}
              />
              <SelectField
                name="tenantId"
                label="Tenant"
                hint="Required for a tenant admin; leave empty for a super-admin."
                options={[
                  { value: "", label: "— none —" },
                  ...tenants.map((t) => ({ value: String(t.id), label: t.name })),
                ]}
              />
            </>
          ) : (
            <>
              <input type="hidden" name="role" value="tenant_admin" />
              <input type="hidden" name="tenantId" value={actor.tenantId ?? ""} />
            </>
          )}
          <Field
            name="password"
            label="Initial password"
            type="password"
            autoComplete="new-password"
            hint={`At least ${PASSWORD_MIN} characters. The user can change it under Account.`}
          />
        </ActionForm>
      </section>
    </>
  );
}
