import Link from "next/link";

/** Previous / "Page n of m" / Next under a list; nothing when everything fits on one page. */
export function Pager({ page, pages, href }: { page: number; pages: number; href: (page: number) => string }) {
  if (pages <= 1) return null;
  return (
    <nav aria-label="Pages" className="pager">
      {page > 1 && (
        <Link prefetch={false} href={href(page - 1)}>
          Previous
        </Link>
      )}
      <span>
        Page {page} of {pages}
      </span>
      {page < pages && (
        <Link prefetch={false} href={href(page + 1)}>
          Next
        </Link>
      )}
    </nav>
  );
}

/** The address of a list with its search and filters kept, and `page` only past the first. */
export function listHref(path: string, params: Record<string, string | undefined>, page: number): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  if (page > 1) search.set("page", String(page));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** The search box above a list; hidden fields keep the other filters. */
export function ListSearch({
  action,
  id,
  q,
  placeholder,
  keep = {},
}: {
  action: string;
  id: string;
  q: string;
  placeholder: string;
  keep?: Record<string, string | undefined>;
}) {
  return (
    <search>
      <form method="get" action={action} className="inline-form">
        {Object.entries(keep).map(
          ([name, value]) => value && <input key={name} type="hidden" name={name} value={value} />,
        )}
        <label htmlFor={id}>Search</label>
        <input id={id} name="q" type="search" defaultValue={q} placeholder={placeholder} maxLength={100} />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
    </search>
  );
}
