import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { DATABASE_FREE_TESTS } from "./tests/support/database-free";

const root = import.meta.dirname;

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: `${root}/` },
      // Outside the React server build "server-only" would throw; tests are server code.
      { find: /^server-only$/, replacement: path.join(root, "tests/support/empty.ts") },
    ],
  },
  test: {
    globalSetup: ["tests/support/global-setup.ts"],
    setupFiles: ["tests/support/setup.ts"],
    testTimeout: 20_000,
    // A sign-in hashes with scrypt at N = 2^17 (about 0.7 s here); pages waiting on one need the time.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 240_000,
    pool: "forks",
    // The run on PostgreSQL leaves out what never opens a database: it would test the same code twice.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.NAVIGATOR_TEST_DATABASE === "postgres" ? DATABASE_FREE_TESTS : []),
    ],
    reporters: ["default", "./tests/support/summary-reporter.ts"],
  },
});
