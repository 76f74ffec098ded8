/** The step names and statuses of a finished check, in order: what most check tests compare. */
export function stepStatuses(outcome: { steps: { name: string; status: string }[] }): [string, string][] {
  return outcome.steps.map((step) => [step.name, step.status]);
}

/** Every step of a send-and-receive check, passed. */
export const EVERY_STEP_PASSED: [string, string][] = [
  ["settings", "passed"],
  ["network", "passed"],
  ["token", "passed"],
  ["claims", "passed"],
  ["smtp", "passed"],
  ["imap", "passed"],
];

/** Every step of a send-and-receive check over Microsoft Graph, passed. */
export const EVERY_GRAPH_STEP_PASSED: [string, string][] = [
  ["settings", "passed"],
  ["network", "passed"],
  ["token", "passed"],
  ["claims", "passed"],
  ["graph_send", "passed"],
  ["graph_receive", "passed"],
];
