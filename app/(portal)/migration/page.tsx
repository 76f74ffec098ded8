import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { requireActor } from "@/lib/auth/session";
import { loadOr404 } from "@/lib/load-or-404";
import { pageParam } from "@/lib/paging";
import { migrationOverview } from "@/lib/service/migration";
import { MigrationView } from "./migration-view";

export const metadata: Metadata = { title: "Sign-in migration" };

/** Every tenant's mailboxes on the retiring password grant, for super-admins (404 for anyone else). */
export default async function MigrationPage({ searchParams }: { searchParams: Promise<{ page?: string }> }) {
  const actor = await requireActor();
  const page = pageParam((await searchParams).page);
  const overview = await loadOr404(() => migrationOverview(getDb(), actor, null, { page }));
  return (
    <>
      <h1>Sign-in migration</h1>
      <MigrationView overview={overview} showTenant path="/migration" />
    </>
  );
}
