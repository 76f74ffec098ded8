import { buildIfNeeded, nextChildEnv } from "../../scripts/build-if-needed";

// One production build for every test file that starts the portal; skipped when the sources are unchanged.
export default function setup(): void {
  if (!buildIfNeeded(nextChildEnv())) throw new Error("next build failed; see the output above");
}
