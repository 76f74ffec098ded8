import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { requireActor } from "@/lib/auth/session";
import { statusPage } from "@/lib/service/status";
import { StatusView, statusQuery } from "./status-view";

export const metadata: Metadata = { title: "Status" };

type Props = { searchParams: Promise<{ state?: string; q?: string; page?: string }> };

/**
 * Every mailbox the signed-in admin may see. A browser that opens the address gets the same view as
 * plain HTML from app/_plain; this page answers the portal's own navigation to it (and the dev server).
 */
export default async function StatusOverviewPage({ searchParams }: Props) {
  const actor = await requireActor();
  const query = statusQuery(await searchParams);
  const now = Date.now();
  return <StatusView status={statusPage(getDb(), actor, query, now)} query={query} now={now} />;
}
