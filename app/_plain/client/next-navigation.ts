// next/navigation in the island script (scripts/build-if-needed.ts aliases it here). A plain page has
// no App Router: refresh() asks the island script to bring the page's server-rendered parts up to
// date (app/_plain/islands.tsx), and the rest navigate.

export const REFRESH_EVENT = "navigator:refresh";

const ROUTER = {
  refresh() {
    window.dispatchEvent(new Event(REFRESH_EVENT));
  },
  push(href: string) {
    window.location.assign(href);
  },
  replace(href: string) {
    window.location.replace(href);
  },
  back() {
    window.history.back();
  },
};

export function useRouter() {
  return ROUTER;
}
