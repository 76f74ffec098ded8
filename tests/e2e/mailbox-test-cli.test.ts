import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alerts, mailboxes, mailboxTests } from "@/db/schema";
import { createMailbox } from "@/lib/mailbox/save";
import { saveMailboxSchema } from "@/lib/mailbox/schema";
import { appDb, seedWorld } from "../support/db";
import { type Rig, startRig } from "../support/rig/rig";

let rig: Rig;
const deviceUser = { upn: "", password: "" };

beforeAll(async () => {
  rig = await startRig();
  const db = await appDb();
  const world = await seedWorld(db);
  const store = async (name: string, password: string, upn: string) =>
    createMailbox(
      db,
      world.root,
      saveMailboxSchema.parse({ tenantId: String(world.tenantA.id), ...rig.mailboxForm({ upn, password }, { name }) }),
    );
  const good = rig.addUser();
  await store("Invoices", good.password, good.upn);
  rig.entra.deviceCodeInterval = 1;
  Object.assign(deviceUser, rig.addUser({ mfa: "required" }));
  await createMailbox(
    db,
    world.root,
    saveMailboxSchema.parse({
      tenantId: String(world.tenantA.id),
      ...rig.mailboxForm(deviceUser, { name: "Device", password: "", signInMethod: "device" }),
    }),
  );
  await store("Broken", "not-the-password", rig.addUser().upn);
});

afterAll(() => rig?.stop());

type Run = { status: number | null; stdout: string; stderr: string };

/** Asynchronous on purpose: the rig's emulator answers from this very process. */
function cli(...args: string[]): Promise<Run> {
  return command("scripts/mailbox-test.ts", args);
}

function command(script: string, args: string[], onOutput?: (stdout: string) => void): Promise<Run> {
  const child = spawn(
    process.execPath,
    [path.resolve("node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", script, ...args],
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
  child.stdout.on("data", (c) => {
    stdout += c;
    onOutput?.(stdout);
  });
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
    // The failure's alert is raised by the command line itself, before it closes the database.
    const db = await appDb();
    const broken = (await db.select().from(mailboxes).where(eq(mailboxes.name, "Broken")))[0]!;
    expect((await db.select().from(alerts).where(eq(alerts.mailboxId, broken.id))).map((a) => a.kind)).toEqual([
      "failing",
    ]);
    expect(run.stderr).not.toContain("alert evaluation failed");
  });

  it("records its tests in the mailbox's history, and respects the credential cool-down", async () => {
    const tests = await (await appDb()).select().from(mailboxTests);
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

describe("npm run sign-in", () => {
  it("prints the code and the address, waits for the sign-in, and the mailbox then tests green", async () => {
    let approved = false;
    const run = await command("scripts/mailbox-sign-in.ts", ["Device", "--tenant", "alpha"], (stdout) => {
      const code = /Enter {2}([A-Z]{9})/.exec(stdout)?.[1];
      if (code && !approved) {
        approved = true;
        rig.entra.approveDeviceCode(code, deviceUser.upn);
      }
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("Open   https://microsoft.com/devicelogin");
    expect(run.stdout).toContain(`Signed in as ${deviceUser.upn}.`);
    const test = await cli("Device", "--json");
    expect(test.status, test.stdout).toBe(0);
    const steps = (JSON.parse(test.stdout) as { steps: { name: string; summary: string }[] }).steps;
    expect(steps.find((s) => s.name === "token")?.summary).toBe("Token from the cache (no request)");
  });

  it("exits 1 and says why when the sign-in is declined, and 2 for a mailbox that does not exist", async () => {
    let declined = false;
    const run = await command("scripts/mailbox-sign-in.ts", ["Device"], (stdout) => {
      const code = /Enter {2}([A-Z]{9})/.exec(stdout)?.[1];
      if (code && !declined) {
        declined = true;
        rig.entra.declineDeviceCode(code);
      }
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("The sign-in was declined at Microsoft.");
    expect((await command("scripts/mailbox-sign-in.ts", ["Nowhere"])).status).toBe(2);
  });
});
