import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// scripts/prerequisites.sh asks dpkg-query which packages are installed; a stand-in on PATH answers
// for a machine that lacks some of them.
const bin = fs.mkdtempSync(path.join(os.tmpdir(), "nvm-prereq-"));
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

function machineWithout(...missing: string[]) {
  const fake = path.join(bin, "dpkg-query");
  fs.writeFileSync(
    fake,
    `#!/bin/sh\nfor last; do :; done\ncase " ${missing.join(" ")} " in *" $last "*) echo "not-installed"; exit 1;; esac\necho installed\n`,
    { mode: 0o755 },
  );
  return spawnSync("bash", ["scripts/prerequisites.sh", "--check"], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
}

describe("the test prerequisites", () => {
  it("stop with the one apt-get line that installs what is missing", () => {
    const run = machineWithout("dovecot-auth-lua", "chromium");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("The tests need Debian packages that are not installed: chromium dovecot-auth-lua.");
    const lines = run.stderr.split("\n").filter((line) => line.includes("apt-get install"));
    expect(lines).toEqual([
      "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium dovecot-auth-lua",
    ]);
  });

  it("name each package the tests use", () => {
    const run = machineWithout(
      "chromium",
      "openssl",
      "dovecot-imapd",
      "dovecot-lmtpd",
      "dovecot-auth-lua",
      "postgresql",
    );
    expect(run.stderr).toContain("chromium openssl dovecot-imapd dovecot-lmtpd dovecot-auth-lua postgresql.");
  });

  it("pass quietly on a machine that has them all", () => {
    const run = machineWithout();
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  });
});
