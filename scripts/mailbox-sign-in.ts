import { closeDb, getDb, migrateDatabase } from "@/db/client";
import { SYSTEM_ACTORS } from "@/lib/auth/actor";
import { getDeviceSignIn, startDeviceSignIn } from "@/lib/service/device-sign-ins";
import { findMailbox, mailboxArguments } from "./find-mailbox";
import { loadLaunchEnv } from "./launch-env";
import { complain, say } from "./terminal";

// npm run sign-in -- <mailbox id or name> [--tenant <slug>]
// "Sign in with Microsoft" from a terminal, for a mailbox whose sign-in method is Microsoft sign-in:
// prints the code and the address, waits until the user has signed in there, and stores the sign-in.
// Exit code: 0 when signed in, 1 when the sign-in failed or may not start now, 2 for a usage error.

const { target, tenantSlug } = mailboxArguments(process.argv.slice(2));
if (!target) usage("name the mailbox to sign in (its id or its name)");

loadLaunchEnv();
const db = getDb();
await migrateDatabase(db);
const found = await findMailbox(db, target, tenantSlug);
if (!found.ok) usage(found.problem);
const { mailbox } = found;
const ref = { tenantId: mailbox.tenantId, mailboxId: mailbox.id };

const started = await startDeviceSignIn(db, SYSTEM_ACTORS.cliSignIn, ref);
if (!started.ok) {
  complain(started.refusal.message);
  process.exit(1);
}
let view = started.signIn;
if (view.userCode) {
  say(`Mailbox ${mailbox.id} "${mailbox.name}": sign in as ${mailbox.login}.`);
  say(`  1. Open   ${view.verificationUri ?? "Microsoft's sign-in page"}`);
  say(`  2. Enter  ${view.userCode}`);
  say(`  The code is valid until ${view.expiresAt?.slice(11, 16)} UTC. Waiting…`);
}
let said = view.waiting;
while (view.status === "pending" || view.status === "starting") {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  view = await getDeviceSignIn(db, SYSTEM_ACTORS.cliSignIn, ref, view.id);
  if (view.waiting && view.waiting !== said) say(`  ${view.waiting}`);
  said = view.waiting;
}
await closeDb();
if (view.status === "succeeded") {
  say(`Signed in as ${view.account}. Run npm run check -- ${mailbox.id} to test the mailbox.`);
  process.exit(0);
}
complain(view.diagnosis ? `${view.diagnosis.cause}\n${view.diagnosis.fix}` : "The sign-in did not finish.");
if (view.diagnosis?.detail) complain(`server: ${view.diagnosis.detail}`);
process.exit(1);

function usage(problem: string): never {
  complain(`npm run sign-in -- <mailbox id or name> [--tenant <slug>]\n${problem}`);
  process.exit(2);
}
