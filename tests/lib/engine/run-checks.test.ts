import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChecksToEnd } from "@/lib/engine/run-checks";
import type { CheckSettings } from "@/lib/engine/settings";
import type { StepResult } from "@/lib/engine/steps";
import { type Rig, startRig } from "../../support/rig/rig";
import { EVERY_STEP_PASSED, stepStatuses } from "../../support/steps";

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterAll(() => rig?.stop());

async function check(settings: CheckSettings) {
  const seen: StepResult[] = [];
  const result = await runChecksToEnd(
    settings,
    { authorityHost: rig.entra.authorityHost, allowlist: rig.allowlist },
    (s) => seen.push(s),
  );
  return { ...result, seen };
}

describe("the full check against the rig", () => {
  it("passes end to end: token, claims, SMTP send over STARTTLS, IMAP receive over TLS", async () => {
    const user = rig.addUser();
    const result = await check(rig.settings(user));
    expect(stepStatuses(result)).toEqual(EVERY_STEP_PASSED);
    expect(result.ok).toBe(true);
    expect(result.seen).toEqual(result.steps);
    expect(result.steps.at(-1)!.metrics!.arrivalMs).toBeLessThan(5000);
    // Each mail step records the TLS its session negotiated (the rig's servers speak TLS 1.2 and up).
    for (const name of ["smtp", "imap"]) {
      expect(result.steps.find((s) => s.name === name)!.tls).toMatchObject({
        version: expect.stringMatching(/^TLSv1\.[23]$/),
        cipher: expect.stringMatching(/^TLS_/),
      });
    }
    expect(rig.dovecot.inboxCount(user.upn)).toBe(0);
  });
});

describe("the settings step", () => {
  it("stops at missing servers or a missing password, before any connection", async () => {
    const user = rig.addUser();
    const noImap = await check(rig.settings(user, { imapHost: null }));
    expect(noImap.steps.map((s) => s.status)).toEqual([
      "failed",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
    ]);
    expect(noImap.steps[0]!.diagnosis).toMatchObject({
      code: "SETTINGS_INCOMPLETE",
      detail: "IMAP Server or IMAP Port is empty",
    });
    const noPassword = await check(
      rig.settings(user, { password: null, azureClientId: null, azureTenantId: null, signInMethod: "basic" }),
    );
    expect(noPassword.steps[0]!.diagnosis).toMatchObject({ code: "NO_PASSWORD", setupStep: "password" });
  });
});
