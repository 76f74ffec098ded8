import type { MailboxTest } from "@/db/schema";
import { formatUtc } from "@/lib/format-time";

/** Last test outcome as a badge: passed, failed (with the failure code) or not tested. */
export function OutcomeBadge({ test }: { test?: Pick<MailboxTest, "outcome" | "failureCode" | "startedAt"> }) {
  if (!test) return <span className="badge badge-unknown">Not tested yet</span>;
  const when = formatUtc(test.startedAt);
  if (test.outcome === "passed")
    return (
      <span className="badge badge-on" title={`Tested ${when} UTC`}>
        Passed
      </span>
    );
  if (test.outcome === "failed")
    return (
      <span className="badge badge-off" title={`Tested ${when} UTC`}>
        Failed{test.failureCode ? `: ${test.failureCode}` : ""}
      </span>
    );
  return <span className="badge badge-unknown">Running</span>;
}
