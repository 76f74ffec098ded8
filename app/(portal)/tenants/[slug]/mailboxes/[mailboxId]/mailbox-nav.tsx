import Link from "next/link";

const TABS = [
  { href: "", label: "Settings and test" },
  { href: "/tests", label: "Test history" },
  { href: "/setup", label: "Setup checklist" },
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
      <nav aria-label="Mailbox" className="tabs">
        {TABS.map((tab) => (
          <Link
            prefetch={false}
            key={tab.href}
            href={`${base}${tab.href}`}
            aria-current={tab.href === current ? "page" : undefined}
          >
            {tab.label}
          </Link>
        ))}
      </nav>
    </>
  );
}
