import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TokenCacheStore } from "@/lib/engine/credentials";
import {
  type DeviceCodePrompt,
  type DevicePollAnswer,
  type DeviceSignInEnd,
  signInWithDeviceCode,
} from "@/lib/engine/device-code";
import { runChecksToEnd } from "@/lib/engine/run-checks";
import type { CheckSettings } from "@/lib/engine/settings";
import type { EmuUser } from "../../support/rig/entra-emulator";
import { type Rig, startRig } from "../../support/rig/rig";
import { EVERY_STEP_PASSED, stepStatuses } from "../../support/steps";

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
  rig.entra.deviceCodeInterval = 1;
});
afterAll(() => rig.stop());
beforeEach(() => {
  rig.entra.strictRefreshRotation = false;
  rig.entra.accessTokenLifetime = 3600;
});

const deviceSettings = (user: EmuUser, overrides: Partial<CheckSettings> = {}): CheckSettings =>
  rig.settings(user, { password: null, signInMethod: "device", ...overrides });

function memoryCache(initial: string | null = null): TokenCacheStore & { value: string | null; writes: number } {
  const store = {
    value: initial,
    writes: 0,
    read: async () => store.value,
    write: async (serialized: string) => {
      store.value = serialized;
      store.writes++;
    },
  };
  return store;
}

/** Starts a sign-in and lets `user` play the person at Microsoft once the code is shown. */
async function signIn(
  settings: CheckSettings,
  user: (prompt: DeviceCodePrompt) => void,
  extra: { cancelled?: () => boolean } = {},
): Promise<{ end: DeviceSignInEnd; prompts: DeviceCodePrompt[]; answers: DevicePollAnswer[] }> {
  const prompts: DeviceCodePrompt[] = [];
  const answers: DevicePollAnswer[] = [];
  const end = await signInWithDeviceCode({
    settings,
    authorityHost: rig.entra.authorityHost,
    onPrompt: (prompt) => {
      prompts.push(prompt);
      user(prompt);
    },
    onAnswer: (answer) => {
      answers.push(answer);
    },
    ...extra,
  });
  return { end, prompts, answers };
}

async function signInWithScopes(user: EmuUser, scopes: string[]) {
  const prompts: DeviceCodePrompt[] = [];
  const end = await signInWithDeviceCode({
    settings: deviceSettings(user),
    authorityHost: rig.entra.authorityHost,
    scopes,
    onPrompt: (prompt) => {
      prompts.push(prompt);
      rig.entra.approveDeviceCode(prompt.userCode, user.upn);
    },
  });
  return { end, prompts };
}

const check = (settings: CheckSettings, tokenCache: TokenCacheStore) =>
  runChecksToEnd(settings, { authorityHost: rig.entra.authorityHost, allowlist: rig.allowlist, tokenCache });

describe("Microsoft sign-in with a device code", () => {
  it("signs in an MFA account, and the stored cache alone then passes the whole test with no request", async () => {
    const user = rig.addUser({ mfa: "required" });
    const settings = deviceSettings(user);
    const { end, prompts, answers } = await signIn(settings, (prompt) => {
      setTimeout(() => rig.entra.approveDeviceCode(prompt.userCode, user.upn), 1500);
    });
    expect(end).toMatchObject({ ok: true, account: user.upn });
    expect(prompts).toHaveLength(1);
    expect(prompts[0]!.userCode).toMatch(/^[A-Z]{9}$/);
    expect(prompts[0]!.verificationUri).toBe("https://microsoft.com/devicelogin");
    expect(prompts[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 800_000);
    expect(answers).toContain("authorization_pending");
    if (!end.ok) return;
    expect(end.cache).toContain("RefreshToken");
    expect(end.cache).not.toContain(user.password);

    const store = memoryCache(end.cache);
    const before = rig.entra.tokenRequests();
    const outcome = await check(settings, store);
    expect(stepStatuses(outcome)).toEqual(EVERY_STEP_PASSED);
    expect(outcome.steps[2]).toMatchObject({
      summary: "Token from the cache (no request)",
      metrics: { tokenRequests: 0 },
    });
    expect(rig.entra.tokenRequests()).toBe(before);
  });

  it("saves every rotated refresh token: with strict rotation, three renewals in a row all pass", async () => {
    const user = rig.addUser();
    const settings = deviceSettings(user);
    // A short token life makes MSAL renew on every check (it renews within five minutes of expiry).
    rig.entra.accessTokenLifetime = 60;
    rig.entra.strictRefreshRotation = true;
    const { end } = await signIn(settings, (p) => rig.entra.approveDeviceCode(p.userCode, user.upn));
    if (!end.ok) throw new Error(end.diagnosis.code);
    const store = memoryCache(end.cache);
    for (let i = 0; i < 3; i++) {
      const outcome = await check(settings, store);
      expect(outcome.ok, JSON.stringify(outcome.steps.find((s) => s.status === "failed"))).toBe(true);
      expect(outcome.steps[2]).toMatchObject({ summary: "Token renewed with the refresh token" });
    }
    expect(store.writes).toBe(3);

    // A store that drops the rotated token fails on the next renewal: the rotation is what kept it working.
    const forgetful = memoryCache(store.value);
    forgetful.write = async () => {};
    expect((await check(settings, forgetful)).ok).toBe(true);
    const lost = await check(settings, forgetful);
    expect(lost.steps[2]).toMatchObject({ status: "failed", diagnosis: { code: "SIGN_IN_AGAIN" } });
    expect(lost.steps[2]!.diagnosis!.detail).toContain("AADSTS700082");
  });

  it.each([
    ["declined", "declineDeviceCode", "DEVICE_DECLINED"],
    ["expired", "expireDeviceCode", "DEVICE_EXPIRED"],
    ["bad_code", "forgetDeviceCode", "DEVICE_BAD_CODE"],
  ] as const)("ends %s (emulator: %s) and says so in words", async (reason, hook, code) => {
    const user = rig.addUser();
    const { end } = await signIn(deviceSettings(user), (p) => setTimeout(() => rig.entra[hook](p.userCode), 300));
    expect(end).toMatchObject({ ok: false, reason, diagnosis: { code, setupStep: "microsoft-sign-in" } });
  });

  it("slows down by five seconds when Entra answers slow_down, then finishes", async () => {
    const user = rig.addUser();
    let slowedAt = 0;
    const { end, answers } = await signIn(deviceSettings(user), (p) => {
      rig.entra.slowDownDeviceCode(p.userCode);
      rig.entra.approveDeviceCode(p.userCode, user.upn);
      slowedAt = Date.now();
    });
    expect(end).toMatchObject({ ok: true });
    expect(answers[0]).toBe("slow_down");
    // interval (1 s) + 5 s before the poll after slow_down
    expect(Date.now() - slowedAt).toBeGreaterThanOrEqual(5_900);
  }, 20_000);

  it("stops polling when cancelled", async () => {
    const user = rig.addUser();
    let cancel = false;
    const { end } = await signIn(deviceSettings(user), () => setTimeout(() => (cancel = true), 200), {
      cancelled: () => cancel,
    });
    expect(end).toMatchObject({ ok: false, reason: "cancelled", diagnosis: { code: "DEVICE_CANCELLED" } });
  });

  it("stores nothing when someone signs in as another account than the Login", async () => {
    const user = rig.addUser();
    const other = rig.addUser();
    const { end } = await signIn(deviceSettings(user), (p) => rig.entra.approveDeviceCode(p.userCode, other.upn));
    expect(end).toMatchObject({ ok: false, reason: "wrong_account", diagnosis: { code: "DEVICE_WRONG_ACCOUNT" } });
    expect(JSON.stringify(end)).not.toContain("RefreshToken");
    expect(end.ok ? "" : end.diagnosis.detail).toContain(other.upn);
  });

  it("names the setup step when Entra refuses: public client flows off, consent missing, unknown app", async () => {
    const user = rig.addUser();
    const confidential = rig.addAppOnlyApp({ publicClient: false, consented: ["SMTP.Send", "IMAP.AccessAsUser.All"] });
    const unconsented = rig.addAppOnlyApp({ publicClient: true, consented: [] });
    const approve = (p: DeviceCodePrompt) => rig.entra.approveDeviceCode(p.userCode, user.upn);
    const cases = [
      [confidential.clientId, "AADSTS7000218"],
      [unconsented.clientId, "AADSTS65001"],
      ["9e9e9e9e-0000-4000-8000-000000000000", "AADSTS700016"],
    ] as const;
    for (const [clientId, code] of cases) {
      const { end } = await signIn(deviceSettings(user, { azureClientId: clientId }), approve);
      expect(end, clientId).toMatchObject({ ok: false, reason: "refused", diagnosis: { code } });
    }
  });

  it("shows no code when Entra refuses to give one, and names Entra's reason (not a bad code)", async () => {
    const user = rig.addUser();
    // A scope of a resource the tenant does not have: refused at the device authorization itself.
    const { end, prompts } = await signInWithScopes(user, ["https://graph.microsoft.us/Application.ReadWrite.All"]);
    expect(prompts).toEqual([]);
    expect(end).toMatchObject({ ok: false, reason: "refused", diagnosis: { code: "AADSTS500011" } });
  });

  it("puts the mailbox in 'sign in again' when the refresh token is revoked or unused for 90 days", async () => {
    rig.entra.accessTokenLifetime = 60;
    for (const lose of [
      (upn: string) => rig.entra.revokeRefreshTokens(upn),
      (upn: string) => rig.entra.ageRefreshTokens(upn, 91 * 86_400_000),
    ]) {
      const user = rig.addUser();
      const settings = deviceSettings(user);
      const { end } = await signIn(settings, (p) => rig.entra.approveDeviceCode(p.userCode, user.upn));
      if (!end.ok) throw new Error(end.diagnosis.code);
      lose(user.upn);
      const outcome = await check(settings, memoryCache(end.cache));
      expect(outcome.steps[2]).toMatchObject({
        status: "failed",
        diagnosis: { code: "SIGN_IN_AGAIN", setupStep: "microsoft-sign-in" },
      });
    }
  });

  it("says the mailbox is not signed in yet when there is no stored sign-in", async () => {
    const user = rig.addUser();
    const outcome = await check(deviceSettings(user), memoryCache());
    expect(outcome.steps[2]).toMatchObject({ status: "failed", diagnosis: { code: "NOT_SIGNED_IN" } });
  });
});
