import { buildIfNeeded, nextChildEnv } from "../../scripts/build-if-needed";
import { removePostgres, startPostgres } from "./postgres";
import { createRigTls } from "./rig/tls";
import { removeTemporaries } from "./temp";

// Runs once, before the test workers start: they inherit what is put in process.env here.
export default async function setup(): Promise<() => void> {
  // NAVIGATOR_TEST_DATABASE=postgres: the whole suite on one throwaway PostgreSQL cluster.
  const cluster = process.env.NAVIGATOR_TEST_DATABASE === "postgres" ? await startPostgres() : null;
  if (cluster) process.env.NAVIGATOR_TEST_PG_URL = cluster.url();
  const tls = createRigTls();
  process.env.NAVIGATOR_RIG_TLS_DIR = tls.dir;
  process.env.NAVIGATOR_RIG_IP = tls.ip;
  // Node reads this at process start, so every worker and every portal started by a test trusts the test CA.
  process.env.NODE_EXTRA_CA_CERTS = tls.caPem;
  // One production build for every test file that starts the portal; skipped when the sources are unchanged.
  if (!buildIfNeeded(nextChildEnv())) throw new Error("next build failed; see the output above");
  // The test CA's folder and the cluster, once every test file has ended.
  return () => {
    removeTemporaries();
    if (cluster) removePostgres(cluster);
  };
}
