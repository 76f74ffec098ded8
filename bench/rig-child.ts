// The test rig in a process of its own: its servers then answer on their own event loop, as
// Microsoft's do, instead of waiting for the bench's client work (and slowing it down). Started by
// startRigProcess in rig-process.ts; it makes the users asked for, reports them and stops when the
// bench goes away.
import { startRig } from "../tests/support/rig/rig";

const rig = await startRig();
const users = Array.from({ length: Number(process.argv[2] ?? 0) }, () => rig.addUser());
process.send!({
  authorityHost: rig.entra.authorityHost,
  allowlist: rig.allowlist,
  ip: rig.ip,
  mailboxes: users.map((user) => ({ user, settings: rig.settings(user), form: rig.mailboxForm(user) })),
});
process.on("disconnect", () => {
  void rig.stop().finally(() => process.exit(0));
});
