// What the production server (scripts/serve.mjs) answers without Next.js's page machinery, bundled
// into one file by scripts/build-if-needed.ts: the business-system API and the plain HTML pages.
export { PLAIN_PAGE_PATHS, routePlainPage } from "@/app/_plain/router";
export { routeApiV1 } from "./api/router";
