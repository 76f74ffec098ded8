import type { TestRun } from "@/db/schema";
import { formatUtc } from "@/lib/format-time";

/** Last test outcome as a badge: passed, failed (with the failure code) or not tested. */
export function OutcomeBadge({ run }: { run?: Pick<TestRun, "outcome" | "failureCode" | "startedAt"> }) {
  if (!run) return <span className="badge badge-unknown">Not tested yet</span>;
  const when = formatUtc(run.startedAt);
  if (run.outcome === "passed") return <span className="badge badge-on" title={`Tested ${when} UTC`}>Passed</span>;
  if (run.outcome === "failed") return <span className="badge badge-off" title={`Tested ${when} UTC`}>Failed{run.failureCode ? `: ${run.failureCode}` : ""}</span>;
  return <span className="badge badge-unknown">Running</span>;
}
