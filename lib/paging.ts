/** Rows per page in every list of the portal. */
export const PAGE_SIZE = 50;

/** A search term as a LIKE pattern matching it anywhere, with its own % and _ taken literally (ESCAPE '\'). */
export function containsPattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The page to show of `total` rows, clamped to the pages there are, and its offset. */
export function pageWindow(
  total: number,
  requested: number | undefined,
): { page: number; pages: number; offset: number } {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const page = Math.min(Math.max(1, Math.trunc(requested ?? 1) || 1), pages);
  return { page, pages, offset: (page - 1) * PAGE_SIZE };
}

/** `?page=` as a number; anything else is page 1. */
export function pageParam(value: string | undefined): number {
  return Number.parseInt(value ?? "1", 10) || 1;
}
