import Link from "next/link";
import { TabBar } from "@/app/_components/tab-bar";

const TABS = [
  { path: "", label: "Settings and test" },
  { path: "/tests", label: "Test history" },
  { path: "/setup", label: "Setup checklist" },
];

export function MailboxNav({
  base,
  current,
  tenant,
}: {
  base: string;
  current: string;
  tenant: { slug: string; name: string };
}) {
  return (
    <>
      <p className="breadcrumbs">
        <Link prefetch={false} href={`/tenants/${tenant.slug}`}>
          {tenant.name}
        </Link>
      </p>
      <TabBar label="Mailbox" base={base} tabs={TABS} current={current} />
    </>
  );
}
