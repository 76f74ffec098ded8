// The island script of the plain pages (app/_plain/router.tsx), built with Preact by
// scripts/build-if-needed.ts: it hydrates each island the server rendered with the props it was
// rendered with, and brings the page up to date when an island asks (router.refresh()).
import { type ComponentType, h, hydrate, render } from "preact";
import { decodeIslandProps } from "@/app/_components/island";
import { REFRESH_EVENT } from "./client/next-navigation";
import { ISLANDS } from "./island-registry";

function islandsIn(root: ParentNode): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>("[data-island]")];
}

function vnodeOf(element: HTMLElement) {
  const island = ISLANDS[element.dataset.island ?? ""];
  if (!island) throw new Error(`no island named ${element.dataset.island}`);
  return h(island as ComponentType<Record<string, unknown>>, decodeIslandProps(element.dataset.props ?? "{}"));
}

for (const element of islandsIn(document)) hydrate(vnodeOf(element), element);

let refreshing = false;
let again = false;

/**
 * The page again from the server, as the App Router's refresh: what the server renders is replaced,
 * and each island stays, keeping its state (a test's steps, a form's message), with its new props.
 */
async function refresh(): Promise<void> {
  const response = await fetch(window.location.href, { cache: "no-store", headers: { accept: "text/html" } });
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("main");
  const main = document.querySelector("main");
  if (!response.ok || response.redirected || !fresh || !main) {
    window.location.reload();
    return;
  }
  const focused = document.activeElement;
  const live = new Map<string, HTMLElement[]>();
  for (const element of islandsIn(main))
    live.set(element.dataset.island!, [...(live.get(element.dataset.island!) ?? []), element]);
  const added: HTMLElement[] = [];
  for (const element of islandsIn(fresh)) {
    const kept = live.get(element.dataset.island!)?.shift();
    if (!kept) {
      added.push(element);
      continue;
    }
    kept.dataset.props = element.dataset.props;
    element.replaceWith(kept);
    render(vnodeOf(kept), kept);
  }
  for (const gone of [...live.values()].flat()) render(null, gone);
  main.replaceChildren(...fresh.childNodes);
  for (const element of added) hydrate(vnodeOf(element), element);
  if (focused instanceof HTMLElement && focused.isConnected && document.activeElement !== focused)
    focused.focus({ preventScroll: true });
}

// One refresh at a time; one asked for meanwhile runs after it, as the page may have changed again.
window.addEventListener(REFRESH_EVENT, async () => {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    do {
      again = false;
      await refresh();
    } while (again);
  } finally {
    refreshing = false;
  }
});
