/**
 * Test files that never open a database: the engine's against the rig alone, and pure functions. The
 * PostgreSQL run leaves them out (vitest.config.ts), since it would run exactly the same code again;
 * the architecture test keeps each of them away from anything that could reach a database.
 */
export const DATABASE_FREE_TESTS = [
  "tests/lib/engine/app-only.test.ts",
  "tests/lib/engine/device-code.test.ts",
  "tests/lib/engine/diagnoses-rig.test.ts",
  "tests/lib/engine/entra-setup.test.ts",
  "tests/lib/engine/graph.test.ts",
  "tests/lib/engine/light-test.test.ts",
  "tests/lib/engine/network-guard.test.ts",
  "tests/lib/engine/run-checks.test.ts",
  "tests/lib/engine/shared-mailboxes.test.ts",
  "tests/lib/auth/password.test.ts",
  "tests/lib/crypto/seal.test.ts",
  "tests/scripts/terminal.test.ts",
  "tests/scripts/build-if-needed.test.ts",
  "tests/scripts/prerequisites.test.ts",
];

/** What such a file may import from the project: the engine, the rig, and modules without a database. */
export const DATABASE_FREE_IMPORTS = [
  "lib/engine/",
  "lib/mailbox/certificate",
  "lib/auth/password",
  "lib/crypto/seal",
  "scripts/terminal",
  "scripts/build-if-needed",
  "tests/support/rig/",
  "tests/support/steps",
  "tests/support/certificates",
];
