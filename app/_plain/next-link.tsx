import type { AnchorHTMLAttributes } from "react";

/**
 * next/link in the plain HTML bundle (scripts/build-if-needed.ts aliases it here): without the
 * App Router in the page a link is the anchor it renders anyway, and prefetch means nothing.
 */
export default function Link({
  prefetch: _prefetch,
  ...anchor
}: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; prefetch?: boolean }) {
  return <a {...anchor} />;
}
