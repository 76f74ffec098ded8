// The operation lives in lib/api/operations.ts, shared with the production server's direct route.
export { issueToken as POST } from "@/lib/api/operations";

export const dynamic = "force-dynamic";
