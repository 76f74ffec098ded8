import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailboxTests } from "@/db/schema";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { appDb, seedWorld } from "../support/db";
import { type Rig, startRig } from "../support/rig/rig";

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
  const db = appDb();
  const world = await seedWorld(db);
  const store = (name: string, password: string, upn: string) =>
    createMailbox(
      db,
      world.root,
      saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...rig.mailboxForm({ upn, password }, { name }) }),
    );
  const good = rig.addUser();
  store("Invoices", good.password, good.upn);
  store("Broken", "not-the-password", rig.addUser().upn);
});

afterAll(() => rig?.stop());

/** Asynchronous on purpose: the rig's emulator answers from this very process. */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [path.resolve("node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "scripts/mailbox-test.ts", ...args],
    {
      env: {
        ...process.env,
        ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
        MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
      } as NodeJS.ProcessEnv,
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

describe("npm run mailbox:test", () => {
  it("is also there as npm run check", () => {
    const { scripts } = JSON.parse(fs.readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
    expect(scripts.check).toBe(scripts["mailbox:test"]);
  });

  it("prints each step and exits 0 when the mailbox works", async () => {
    const run = await cli("Invoices");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/PASS {2}Token +\d+ ms {2}Token with the password grant/);
    expect(run.stdout).toMatch(/PASS {2}IMAP receive +\d+ ms {2}Test message arrived/);
    expect(run.stdout).toContain("All steps passed");
  });

  it("answers a second test from the sealed token cache, in JSON for machines", async () => {
    const run = await cli("invoices", "--json");
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      steps: { name: string; status: string; summary: string; metrics?: Record<string, number> }[];
    };
    expect(report.ok).toBe(true);
    expect(report.steps.find((s) => s.name === "token")).toMatchObject({
      summary: "Token from the cache (no request)",
      metrics: { tokenRequests: 0 },
    });
  });

  it("exits 1 with the diagnosis when a step fails", async () => {
    const run = await cli("Broken");
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("FAIL  Token");
    expect(run.stdout).toContain("code:       AADSTS50126");
    expect(run.stdout).toContain("setup step: password");
    expect(run.stdout).not.toContain("not-the-password");
  });

  it("records its tests in the mailbox's history, and respects the credential cool-down", async () => {
    const tests = appDb().select().from(mailboxTests).all();
    expect(tests.map((r) => [r.triggeredBy, r.outcome])).toEqual([
      ["npm run check", "passed"],
      ["npm run check", "passed"],
      ["npm run check", "failed"],
    ]);
    const again = await cli("Broken");
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("failed with AADSTS50126");
  });

  it("exits 2 for an unknown mailbox", async () => {
    const run = await cli("Nope");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no mailbox "Nope"');
  });
});
