import type { Metadata } from "next";
import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { ActionForm, Field } from "@/app/_components/action-form";
import { ListSearch, listHref, Pager } from "@/app/_components/pager";
import { getDb } from "@/db/client";
import { isSuperAdmin } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { pageParam } from "@/lib/paging";
import { listTenantsFor, listTenantsPage } from "@/lib/tenants/queries";
import { createTenantAction } from "./actions";

export const metadata: Metadata = { title: "Tenants" };

type Props = { searchParams: Promise<{ q?: string; page?: string }> };

export default async function TenantsPage({ searchParams }: Props) {
  const actor = await requireActor();
  if (!isSuperAdmin(actor)) {
    const own = (await listTenantsFor(getDb(), actor))[0];
    if (!own) notFound();
    redirect(`/tenants/${own.slug}`);
  }
  const params = await searchParams;
  const q = params.q?.slice(0, 100) ?? "";
  const list = await listTenantsPage(getDb(), actor, { q, page: pageParam(params.page) });
  const tenants = list.rows;
  return (
    <>
      <h1>Tenants</h1>
      <ListSearch action="/tenants" id="tenant-search" q={q} placeholder="Name or slug" />
      {tenants.length === 0 ? (
        <p className="empty">{q ? "No tenants match." : "No tenants yet. Create the first one below."}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {tenants.map((tenant) => (
              <tr key={tenant.id}>
                <td>
                  <Link prefetch={false} href={`/tenants/${tenant.slug}`}>
                    {tenant.name}
                  </Link>
                </td>
                <td>
                  <code>{tenant.slug}</code>
                </td>
                <td>{tenant.createdAt.toISOString().slice(0, 10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager page={list.page} pages={list.pages} href={(page) => listHref("/tenants", { q }, page)} />
      <section aria-labelledby="new-tenant">
        <h2 id="new-tenant">New tenant</h2>
        <ActionForm action={createTenantAction} submitLabel="Create tenant" pendingLabel="Creating…">
          <Field
            name="name"
            label="Name"
            hint="The organisation as your admins know it, e.g. Acme Corporation."
            maxLength={100}
          />
          <Field
            name="slug"
            label="Slug"
            hint="Short identifier used in addresses: lowercase letters, digits and hyphens."
            maxLength={40}
          />
        </ActionForm>
      </section>
    </>
  );
}
