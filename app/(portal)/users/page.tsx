import type { Metadata } from "next";
import { ActionForm, Field, SelectField } from "@/app/_components/action-form";
import { ListSearch, listHref, Pager } from "@/app/_components/pager";
import { getDb } from "@/db/client";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { pageParam } from "@/lib/paging";
import { countTenants, listTenantsFor } from "@/lib/tenants/queries";
import { listUsersPage } from "@/lib/users/queries";
import { PASSWORD_MIN } from "@/lib/users/schema";
import { createUserAction, setUserDisabledAction } from "./actions";

export const metadata: Metadata = { title: "Users" };

const ROLE_LABELS = { super_admin: "Super-admin", tenant_admin: "Tenant admin" } as const;

/** Up to this many tenants the form offers a list; beyond it the admin types the tenant's slug. */
const TENANT_LIST_MAX = 100;

type Props = { searchParams: Promise<{ q?: string; page?: string }> };

export default async function UsersPage({ searchParams }: Props) {
  const actor = await requireActor();
  const db = getDb();
  const params = await searchParams;
  const q = params.q?.slice(0, 100) ?? "";
  const list = await listUsersPage(db, actor, { q, page: pageParam(params.page) });
  const users = list.rows;
  const superAdmin = isSuperAdmin(actor);
  const tenants = superAdmin && (await countTenants(db)) <= TENANT_LIST_MAX ? await listTenantsFor(db, actor) : null;
  return (
    <>
      <h1>Users</h1>
      <ListSearch action="/users" id="user-search" q={q} placeholder="Email, name or tenant" />
      {users.length === 0 && <p className="empty">No users match.</p>}
      <table hidden={users.length === 0}>
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
      <Pager page={list.page} pages={list.pages} href={(page) => listHref("/users", { q }, page)} />

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
              {tenants ? (
                <SelectField
                  name="tenantId"
                  label="Tenant"
                  hint="Required for a tenant admin; leave empty for a super-admin."
                  options={[
                    { value: "", label: "— none —" },
                    ...tenants.map((t) => ({ value: String(t.id), label: t.name })),
                  ]}
                />
              ) : (
                <Field
                  name="tenantSlug"
                  label="Tenant slug"
                  hint="Required for a tenant admin (find it on the Tenants page); leave empty for a super-admin."
                  maxLength={40}
                  autoComplete="off"
                />
              )}
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
