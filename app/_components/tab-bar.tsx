import Link from "next/link";

/** A page's tabs: plain links under `base`, so it works without JavaScript; the current one is marked. */
export function TabBar({
  label,
  base,
  tabs,
  current,
}: {
  label: string;
  base: string;
  tabs: readonly { path: string; label: string }[];
  current: string;
}) {
  return (
    <nav aria-label={label} className="tabs">
      {tabs.map((tab) => (
        <Link
          prefetch={false}
          key={tab.path}
          href={`${base}${tab.path}`}
          aria-current={tab.path === current ? "page" : undefined}
        >
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}
