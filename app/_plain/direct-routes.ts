// What the production server (scripts/serve.mjs) answers without Next.js's page machinery, bundled
// into one file by scripts/build-if-needed.ts: the business-system API and the plain pages.
export { routeApiV1 } from "@/lib/api/router";
export { isPlainRoute, routePlainPage } from "./router";
