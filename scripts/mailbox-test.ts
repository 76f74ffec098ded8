import { closeDb, getDb, migrateDatabase } from "@/db/client";
import { SYSTEM_ACTORS } from "@/lib/auth/actor";
import { STEP_LABELS, type StepResult } from "@/lib/engine/steps";
import { startMailboxTest, testToEnd } from "@/lib/service/mailbox-tests";
import { findMailbox, mailboxArguments } from "./find-mailbox";
import { loadLaunchEnv } from "./launch-env";
import { complain, say } from "./terminal";

// npm run mailbox:test -- <mailbox id or name> [--tenant <slug>] [--json]   (npm run check is the same)
// Exit code: 0 when every step passed, 1 when the test failed or may not run now, 2 for a usage error.

const args = process.argv.slice(2);
const json = args.includes("--json");
const { target, tenantSlug } = mailboxArguments(args);
if (!target) usage("name the mailbox to test (its id or its name)");

loadLaunchEnv();
const db = getDb();
await migrateDatabase(db);
const found = await findMailbox(db, target, tenantSlug);
if (!found.ok) usage(found.problem);
const { mailbox, tenantSlug: slug } = found;

// Runs like the portal's button, so the test lands in the mailbox's history and audit log.
const started = await startMailboxTest(db, SYSTEM_ACTORS.cli, {
  tenantId: mailbox.tenantId,
  mailboxId: mailbox.id,
  source: "saved",
});
if (!started.ok) {
  complain(started.refusal.message);
  process.exit(1);
}
if (!json) say(`Testing mailbox ${mailbox.id} "${mailbox.name}" (${mailbox.login}) of tenant ${slug}`);
const result = await testToEnd(started, { id: mailbox.id, name: mailbox.name, tenant: slug }, (step) => {
  if (!json) printStep(step);
});
// The alert a change of state raises, and its delivery, before the database is closed.
await started.settled;
await closeDb();
if (json) say(JSON.stringify(result, null, 2));
else say(result.ok ? `\nAll steps passed in ${(result.durationMs / 1000).toFixed(1)} s.` : "\nThe test failed.");
process.exit(result.ok ? 0 : 1);

function printStep(step: StepResult): void {
  const mark = { passed: "PASS", failed: "FAIL", skipped: "SKIP" }[step.status];
  say(`${mark}  ${STEP_LABELS[step.name].padEnd(13)} ${String(step.durationMs).padStart(6)} ms  ${step.summary}`);
  const d = step.diagnosis;
  if (d) {
    say(`      code:       ${d.code}`);
    say(`      fix:        ${d.fix}`);
    say(`      setup step: ${d.setupStep}`);
    if (d.detail) say(`      server:     ${d.detail}`);
  }
}

function usage(problem: string): never {
  complain(`npm run mailbox:test -- <mailbox id or name> [--tenant <slug>] [--json]\n${problem}`);
  process.exit(2);
}
