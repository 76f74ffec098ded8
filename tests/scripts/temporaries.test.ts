import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { removeTemporaries, tempDbPath, tempDir } from "../support/temp";

describe("the tests' temporary files", () => {
  it("are removed when the test file ends: folders, and databases with their -wal and -shm files", () => {
    const dir = tempDir("nvm-temporaries-");
    fs.writeFileSync(path.join(dir, "inside.txt"), "x");
    const file = tempDbPath(`nvm-temporaries-${process.pid}.db`);
    const db = openDatabase(file);
    db.$client.exec("CREATE TABLE t (x)");
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    db.$client.close();
    removeTemporaries();
    for (const made of [dir, file, `${file}-wal`, `${file}-shm`]) expect(fs.existsSync(made), made).toBe(false);
  });

  it("are removed by the hook every test file runs last (tests/support/setup.ts)", () => {
    const setup = fs.readFileSync(path.join(process.cwd(), "tests/support/setup.ts"), "utf8");
    expect(setup).toMatch(/afterAll\(\(\) => removeTemporaries\(\)\)/);
    const global = fs.readFileSync(path.join(process.cwd(), "tests/support/global-setup.ts"), "utf8");
    expect(global).toMatch(/return \(\) => \{\s*removeTemporaries\(\);/);
  });
});
