import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChecksToEnd } from "@/lib/engine/run-checks";
import { type Rig, startRig } from "../../support/rig/rig";
import { EVERY_STEP_PASSED, stepStatuses } from "../../support/steps";

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ smtpAuthDisabled: [] });
});
afterAll(() => rig?.stop());

const light = (settings: Parameters<typeof runChecksToEnd>[0]) =>
  runChecksToEnd(settings, { authorityHost: rig.entra.authorityHost, allowlist: rig.allowlist, mode: "light" });

describe("the light test (hourly monitoring)", () => {
  it("signs in to SMTP and IMAP with the token and sends nothing", async () => {
    const user = rig.addUser();
    const delivered = rig.smtp.delivered.length;
    const outcome = await light(rig.settings(user));
    expect(stepStatuses(outcome)).toEqual(EVERY_STEP_PASSED);
    expect(outcome.steps.find((s) => s.name === "smtp")?.summary).toContain("no message sent");
    expect(rig.smtp.delivered.length).toBe(delivered);
    expect(rig.dovecot.inboxCount(user.upn)).toBe(0);
    expect(rig.smtp.authentications.at(-1)).toMatchObject({ method: "XOAUTH2", user: user.upn.toLowerCase() });
  });

  it("still names what the servers refuse", async () => {
    const user = rig.addUser();
    const outcome = await light(
      rig.settings(user, { azureClientId: null, azureTenantId: null, signInMethod: "basic" }),
    );
    expect(outcome.steps.find((s) => s.name === "smtp")).toMatchObject({
      status: "failed",
      diagnosis: { code: "SMTP_PASSWORD_REJECTED" },
    });
    expect(outcome.steps.find((s) => s.name === "imap")).toMatchObject({
      status: "failed",
      diagnosis: { code: "IMAP_PASSWORD_REJECTED" },
    });
  });
});
