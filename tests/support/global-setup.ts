import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildIfNeeded, nextChildEnv } from "../../scripts/build-if-needed";
import { createRigTls } from "./rig/tls";

// Runs once, before the test workers start: they inherit what is put in process.env here.
export default function setup(): () => void {
  // Every temporary file of the run (databases, rig folders, portal data, browser profiles) goes into
  // one folder: os.tmpdir() follows TMPDIR, in the workers and in every process they start.
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "navigator-tests-"));
  process.env.TMPDIR = runDir;
  process.env.NAVIGATOR_TEST_TMP = runDir;
  const tls = createRigTls();
  process.env.NAVIGATOR_RIG_TLS_DIR = tls.dir;
  process.env.NAVIGATOR_RIG_IP = tls.ip;
  // Node reads this at process start, so every worker and every portal started by a test trusts the test CA.
  process.env.NODE_EXTRA_CA_CERTS = tls.caPem;
  // One production build for every test file that starts the portal; skipped when the sources are unchanged.
  if (!buildIfNeeded(nextChildEnv())) throw new Error("next build failed; see the output above");
  // When the tests end, the folder goes with everything in it.
  return () => fs.rmSync(runDir, { recursive: true, force: true });
}
