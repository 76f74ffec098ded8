import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryTokenCache, type TokenCacheStore } from "@/lib/engine/credentials";
import { openInbox } from "@/lib/engine/imap";
import { runChecksToEnd } from "@/lib/engine/run-checks";
import type { AppCredential, CheckSettings } from "@/lib/engine/settings";
import { generateCertificate } from "@/lib/mailbox/certificate";
import { keyAndCertificate } from "../../support/certificates";
import type { EmuApp } from "../../support/rig/entra-emulator";
import { type Rig, startRig } from "../../support/rig/rig";
import { EVERY_STEP_PASSED, stepStatuses } from "../../support/steps";

// App-only access against the rig: SMTP with the client credentials grant (secret or certificate).
let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterAll(() => rig?.stop());

/** An app registration with app-only access, and the mailbox it may use (unless told otherwise). */
function appWith(app: Partial<EmuApp> = {}, mailboxAccess = true) {
  const mailbox = rig.addUser().upn;
  const { clientId } = rig.addAppOnlyApp(app, mailboxAccess ? [mailbox] : []);
  return { clientId, mailbox };
}

function settings(app: { clientId: string; mailbox: string }, appCredential: AppCredential): CheckSettings {
  return {
    ...rig.settings({ upn: app.mailbox, password: "" }, { type: "smtp", password: null, azureClientId: app.clientId }),
    signInMethod: "app",
    appCredential,
  };
}

async function check(s: CheckSettings, cache?: TokenCacheStore) {
  const outcome = await runChecksToEnd(s, {
    authorityHost: rig.entra.authorityHost,
    allowlist: rig.allowlist,
    tokenCache: cache,
  });
  return { ...outcome, step: (name: string) => outcome.steps.find((x) => x.name === name) };
}

describe("app-only with a client secret", () => {
  it("sends as the mailbox with an app token, and a second test takes the token from the cache", async () => {
    const app = appWith({ secrets: [{ value: "the-app-secret~value" }] });
    const cache = memoryTokenCache();
    const first = await check(settings(app, { kind: "secret", secret: "the-app-secret~value" }), cache);
    expect(first.steps.map((s) => [s.name, s.status])).toEqual([
      ["settings", "passed"],
      ["network", "passed"],
      ["token", "passed"],
      ["claims", "passed"],
      ["smtp", "passed"],
    ]);
    expect(first.step("token")).toMatchObject({
      summary: "Token with the client credentials grant (app-only)",
      metrics: { tokenRequests: 1 },
    });
    expect(first.step("claims")!.summary).toMatch(/^App-only, roles SMTP\.SendAsApp/);
    const second = await check(settings(app, { kind: "secret", secret: "the-app-secret~value" }), cache);
    expect(second.step("token")).toMatchObject({ status: "passed", metrics: { tokenRequests: 0 } });
  });

  it.each([
    ["AADSTS7000215", { secrets: [{ value: "the-real-secret" }] }, "a-wrong-secret-value"],
    [
      "AADSTS7000222",
      { secrets: [{ value: "an-old-secret", expiresAt: new Date(Date.now() - 86_400_000) }] },
      "an-old-secret",
    ],
  ] as [string, Partial<EmuApp>, string][])(
    "%s: the secret is refused, named with its setup step, and kept out of the report",
    async (code, app, secret) => {
      const result = await check(settings(appWith(app), { kind: "secret", secret }));
      expect(result.step("token")).toMatchObject({ status: "failed", diagnosis: { code, setupStep: "client-secret" } });
      expect(JSON.stringify(result.steps)).not.toContain(secret);
    },
  );
});

describe("app-only with a certificate", () => {
  it("signs a client assertion the emulator verifies against the uploaded certificate", async () => {
    const pair = keyAndCertificate();
    const app = appWith({ certificates: [pair.certificatePem] });
    const result = await check(settings(app, { kind: "certificate", ...pair }));
    expect(result.steps.find((s) => s.status !== "passed")).toBeUndefined();
    expect(rig.entra.requests.at(-1)).toMatchObject({ grant: "client_credentials", clientId: app.clientId });
  });

  it("works with a certificate the portal generated", async () => {
    const generated = generateCertificate("Navigator Mail engine test");
    const app = appWith({ certificates: [generated.certificatePem] });
    const result = await check(settings(app, { kind: "certificate", ...generated }));
    expect(result.steps.find((s) => s.status !== "passed")).toBeUndefined();
  });

  it("AADSTS700027: a certificate that is not on the app registration", async () => {
    const app = appWith({ certificates: [keyAndCertificate().certificatePem] });
    const result = await check(settings(app, { kind: "certificate", ...keyAndCertificate() }));
    expect(result.step("token")).toMatchObject({
      status: "failed",
      diagnosis: { code: "AADSTS700027", setupStep: "certificate" },
    });
  });
});

describe("what Exchange needs besides the token", () => {
  it("a token without the SMTP.SendAsApp role: admin consent", async () => {
    const app = appWith({ secrets: [{ value: "s3cret-value" }], appRoles: [] });
    const result = await check(settings(app, { kind: "secret", secret: "s3cret-value" }));
    expect(result.step("claims")).toMatchObject({
      status: "failed",
      diagnosis: { code: "CLAIM_APP_ROLE", setupStep: "admin-consent" },
    });
  });

  it("535 5.7.3 for an app token: the service principal or the mailbox permission is missing", async () => {
    const app = appWith({ secrets: [{ value: "s3cret-value" }] }, false);
    const result = await check(settings(app, { kind: "secret", secret: "s3cret-value" }));
    expect(result.step("smtp")).toMatchObject({
      status: "failed",
      diagnosis: { code: "SMTP_APP_NOT_PERMITTED", setupStep: "exchange-app-access" },
    });
  });

  it("no secret or certificate stored: nothing is asked of Entra ID", async () => {
    const app = appWith({ secrets: [{ value: "s3cret-value" }] });
    const before = rig.entra.tokenRequests();
    const result = await check({ ...settings(app, { kind: "secret", secret: "x" }), appCredential: null });
    expect(result.step("token")).toMatchObject({ status: "failed", diagnosis: { code: "NO_APP_CREDENTIAL" } });
    expect(rig.entra.tokenRequests()).toBe(before);
  });
});

describe("app-only IMAP (Dovecot checks the role and the mailbox permission, as Exchange does)", () => {
  const BOTH_ROLES = ["SMTP.SendAsApp", "IMAP.AccessAsApp"];
  const sendAndReceive = (app: { clientId: string; mailbox: string }) => ({
    ...settings(app, { kind: "secret", secret: "s3cret-value" }),
    type: "smtp_imap" as const,
  });

  it("sends and receives the test message as the mailbox with one app token", async () => {
    const app = appWith({ secrets: [{ value: "s3cret-value" }], appRoles: BOTH_ROLES });
    const result = await check(sendAndReceive(app));
    expect(stepStatuses(result)).toEqual(EVERY_STEP_PASSED);
    expect(rig.dovecot.inboxCount(app.mailbox)).toBe(0);
  });

  it("NO AUTHENTICATE failed for an app token without permission on the mailbox", async () => {
    const app = appWith({ secrets: [{ value: "s3cret-value" }], appRoles: BOTH_ROLES });
    const other = rig.addUser().upn;
    // Permission on another mailbox only: the token is fine, Exchange still refuses this one.
    const result = await check({ ...sendAndReceive({ ...app, mailbox: other }), type: "imap" });
    expect(result.step("imap")).toMatchObject({
      status: "failed",
      diagnosis: { code: "IMAP_APP_NOT_PERMITTED", setupStep: "exchange-app-access" },
    });
  });

  it("a token without IMAP.AccessAsApp is refused by the claims check before IMAP is tried", async () => {
    const app = appWith({ secrets: [{ value: "s3cret-value" }] });
    const result = await check({ ...sendAndReceive(app), type: "imap" });
    expect(result.step("claims")).toMatchObject({ status: "failed", diagnosis: { code: "CLAIM_APP_ROLE" } });
    expect(result.step("imap")).toMatchObject({ status: "skipped" });
  });
});

describe("the rig's IMAP refuses what Exchange refuses", () => {
  it("an app token without IMAP.AccessAsApp, sent anyway, is refused by Dovecot", async () => {
    const app = appWith({ appRoles: ["SMTP.SendAsApp"] });
    const token = await rig.entra.mintAccessToken({
      aud: "https://outlook.office365.com",
      iss: `https://sts.windows.net/${rig.tenant.id}/`,
      oid: rig.tenant.apps.find((a) => a.clientId === app.clientId)!.servicePrincipalId,
      roles: ["SMTP.SendAsApp"],
      idtyp: "app",
    });
    const endpoint = { host: rig.ip, port: 993, address: rig.ip, mode: "implicit" as const };
    const opened = await openInbox(endpoint, {
      user: app.mailbox,
      mailbox: app.mailbox,
      accessToken: token,
      appOnly: true,
    });
    expect(opened).toMatchObject({ ok: false, diagnosis: { code: "IMAP_APP_NOT_PERMITTED" } });
    if (opened.ok) await opened.watcher.close();
  });
});
