import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_INPUTS, buildIfNeeded } from "../../scripts/build-if-needed";

// npm start builds when anything that goes into the build changed since the last one. A project
// folder of its own, with one file of each kind, and a build that only counts itself.
const root = fs.mkdtempSync(path.join(os.tmpdir(), "nvm-build-"));
let builds = 0;
const build = () => {
  builds += 1;
  fs.mkdirSync(path.join(root, ".next"), { recursive: true });
  fs.writeFileSync(path.join(root, ".next", "BUILD_ID"), String(builds));
  return true;
};
const start = () => buildIfNeeded(process.env, { root, build });

const FILES: Record<string, string> = {
  "app/page.tsx": "export default function Page() { return null; }",
  "lib/thing.ts": "export const thing = 1;",
  "db/schema.ts": "export const tables = [];",
  "public/robots.txt": "User-agent: *",
  "proxy.ts": "export function proxy() {}",
  "instrumentation.ts": "export async function register() {}",
  "next.config.js": "export default {};",
  "tsconfig.json": "{}",
  "package.json": "{}",
  "package-lock.json": "{}",
  ".env": "A=1",
  "tests/thing.test.ts": "// not part of the build",
  "bench/thing.ts": "// not part of the build",
};

beforeAll(() => {
  for (const [file, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("npm start's build", () => {
  it("builds the first time, then not again while nothing changed", () => {
    expect(start()).toBe(true);
    expect(start()).toBe(true);
    expect(builds).toBe(1);
  });

  it.each(Object.keys(FILES).filter((file) => !/^(tests|bench)\//.test(file)))(
    "builds again after %s changes",
    (file) => {
      const before = builds;
      fs.appendFileSync(path.join(root, file), "\n// changed");
      start();
      expect(builds).toBe(before + 1);
      start();
      expect(builds).toBe(before + 1);
    },
  );

  it("builds again when a file is added to a folder that goes into the build", () => {
    const before = builds;
    fs.writeFileSync(path.join(root, "lib", "new-module.ts"), "export const added = true;");
    start();
    expect(builds).toBe(before + 1);
  });

  it("does not build for the tests and benchmarks, which are not part of it", () => {
    const before = builds;
    fs.appendFileSync(path.join(root, "tests/thing.test.ts"), "\n// changed");
    fs.appendFileSync(path.join(root, "bench/thing.ts"), "\n// changed");
    start();
    expect(builds).toBe(before);
  });

  it("builds again when the last build is gone, and reports a failed build", () => {
    fs.rmSync(path.join(root, ".next"), { recursive: true });
    expect(buildIfNeeded(process.env, { root, build: () => false })).toBe(false);
    expect(start()).toBe(true);
  });

  it("counts every file of this project that Next.js reads at build time", () => {
    const project = process.cwd();
    const read = ["app", "lib", "db", "proxy.ts", "instrumentation.ts", "next.config.js", "tsconfig.json"];
    for (const entry of read) {
      expect(fs.existsSync(path.join(project, entry)), entry).toBe(true);
      expect(BUILD_INPUTS).toContain(entry);
    }
    expect(BUILD_INPUTS).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "public", ".env"]));
  });
});
