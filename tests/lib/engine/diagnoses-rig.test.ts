import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openInbox } from "@/lib/engine/imap";
import { type CheckOptions, runChecksToEnd } from "@/lib/engine/run-checks";
import type { CheckSettings } from "@/lib/engine/settings";
import { smtpTransport } from "@/lib/engine/smtp";
import type { StepResult } from "@/lib/engine/steps";
import { type Endpoint, type MailCredentials, testMail } from "@/lib/engine/transport";
import {
  faultAddress,
  oldTlsPeer,
  plainSmtpPeer,
  scriptedImapPeer,
  silentPeer,
  tlsOnlyPeer,
  untrustedTlsPeer,
} from "../../support/rig/fault-peers";
import { BOTH_PERMISSIONS, type Rig, startRig } from "../../support/rig/rig";

const PASSWORD_USER = "legacy@contoso.com";
const PASSWORD_USER_2 = "nobasic@contoso.com";
let rig: Rig;
let fault: string;
let fault2: string;

beforeAll(async () => {
  rig = await startRig({
    passwords: { [PASSWORD_USER]: "legacy-password-1", [PASSWORD_USER_2]: "legacy-password-2" },
    smtpAuthDisabled: ["noauth@contoso.com"],
    basicAuthDisabled: [PASSWORD_USER_2],
    sendAsDenied: ["shared@contoso.com"],
  });
  fault = faultAddress(rig.ip);
  fault2 = faultAddress(fault);
});

afterAll(() => rig?.stop());

function options(extra: string[] = []): CheckOptions {
  return { authorityHost: rig.entra.authorityHost, allowlist: [...rig.allowlist, ...extra] };
}

async function check(settings: CheckSettings, extraAllow: string[] = []) {
  const started = Date.now();
  const result = await runChecksToEnd(settings, options(extraAllow));
  const failed = result.steps.find((s) => s.status === "failed");
  return {
    ...result,
    failed,
    elapsed: Date.now() - started,
    status: (name: StepResult["name"]) => result.steps.find((s) => s.name === name)?.status,
  };
}

function app(consented: string[], extra: { dropUnconsented?: boolean; audience?: string } = {}): string {
  const clientId = randomUUID();
  rig.tenant.apps.push({ clientId, publicClient: true, consented, ...extra });
  return clientId;
}

async function crafted(claims: Record<string, unknown>): Promise<string> {
  return rig.entra.mintAccessToken({
    aud: "https://outlook.office.com",
    iss: `https://sts.windows.net/${rig.tenant.id}/`,
    scp: BOTH_PERMISSIONS.join(" "),
    tid: rig.tenant.id,
    ...claims,
  });
}

type Secret = { accessToken: string } | { password: string };
const credentials = (login: string, secret: Secret) => ({ user: login, mailbox: login, ...secret }) as MailCredentials;
const sendAs = (login: string, secret: Secret, overrides: Partial<Endpoint> = {}) =>
  smtpTransport.send(
    { host: rig.ip, address: rig.ip, port: 587, mode: "starttls", ...overrides },
    credentials(login, secret),
    testMail(login, randomUUID()),
  );
const openAs = (login: string, secret: Secret, overrides: Partial<Endpoint> = {}) =>
  openInbox({ host: rig.ip, address: rig.ip, port: 993, mode: "implicit", ...overrides }, credentials(login, secret));

describe("token claims, checked before any mail connection", () => {
  it.each([
    ["CLAIM_SMTP_SCOPE", () => ({ azureClientId: app(["IMAP.AccessAsUser.All"], { dropUnconsented: true }) })],
    ["CLAIM_IMAP_SCOPE", () => ({ azureClientId: app(["SMTP.Send"], { dropUnconsented: true }) })],
    ["CLAIM_AUDIENCE", () => ({ azureClientId: app(BOTH_PERMISSIONS, { audience: "https://graph.microsoft.com" }) })],
  ] as const)("%s", async (code, overrides) => {
    const result = await check(rig.settings(rig.addUser(), overrides()));
    expect(result.failed).toMatchObject({ name: "claims", diagnosis: { code, setupStep: "api-permissions" } });
    expect([result.status("smtp"), result.status("imap")]).toEqual(["skipped", "skipped"]);
  });

  it("CLAIM_USER: a token issued for another user", async () => {
    const user = rig.addUser({ tokenUpn: "someone-else@contoso.com" });
    const result = await check(rig.settings(user));
    expect(result.failed?.diagnosis).toMatchObject({ code: "CLAIM_USER", setupStep: "login" });
  });
});

describe("the real servers refuse tokens they must not accept", () => {
  it.each([
    ["another user", { upn: "intruder@contoso.com" }],
    ["another audience", { aud: "https://graph.microsoft.com" }],
    ["no SMTP.Send scope", { scp: "IMAP.AccessAsUser.All" }],
  ])("SMTP answers 535 5.7.3 for %s", async (_name, claims) => {
    const user = rig.addUser();
    const token = await crafted({ upn: user.upn, ...claims });
    const result = await sendAs(user.upn, { accessToken: token });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnosis).toMatchObject({ code: "SMTP_TOKEN_REJECTED", setupStep: "api-permissions" });
    expect(result.diagnosis.detail).toContain("535 5.7.3");
    expect(result.diagnosis.detail).not.toContain(token.slice(0, 30));
  });

  it.each([
    ["another user", { upn: "intruder@contoso.com" }],
    ["another audience", { aud: "https://graph.microsoft.com" }],
    ["another issuer", { iss: "https://sts.windows.net/00000000-0000-4000-8000-000000000000/" }],
  ])("Dovecot answers AUTHENTICATIONFAILED for %s", async (_name, claims) => {
    const user = rig.addUser();
    const token = await crafted({ upn: user.upn, ...claims });
    const result = await openAs(user.upn, { accessToken: token });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnosis).toMatchObject({ code: "IMAP_AUTH_FAILED", setupStep: "exchange-imap" });
    expect(result.diagnosis.detail).toContain("AUTHENTICATIONFAILED");
  });

  it("Exchange's BAD 'authenticated but not connected' on SELECT", async () => {
    const peer = await scriptedImapPeer(fault, 1143, { startTls: false });
    try {
      const result = await openAs(
        "box@contoso.com",
        { accessToken: await crafted({ upn: "box@contoso.com" }) },
        { host: fault, address: fault, port: 1143, mode: "none" },
      );
      expect(!result.ok && result.diagnosis).toMatchObject({
        code: "IMAP_NOT_CONNECTED",
        setupStep: "exchange-imap",
        command: "Set-CASMailbox -Identity 'box@contoso.com' -ImapEnabled $true",
      });
    } finally {
      await peer.close();
    }
  });
});

describe("Exchange settings of the mailbox", () => {
  it("SMTP AUTH disabled: 535 5.7.139", async () => {
    const user = rig.addUser({ upn: "noauth@contoso.com" });
    const result = await check(rig.settings(user));
    expect(result.failed).toMatchObject({
      name: "smtp",
      diagnosis: { code: "SMTP_AUTH_DISABLED", setupStep: "exchange-smtp-auth" },
    });
    expect(result.failed!.diagnosis!.detail).toContain("5.7.139");
    expect(result.failed!.diagnosis!.command).toBe(
      `Set-CASMailbox -Identity '${user.upn}' -SmtpClientAuthenticationDisabled $false`,
    );
    expect(result.status("imap")).toBe("passed");
  });

  it("Send As denied: 554 5.2.252", async () => {
    const user = rig.addUser({ upn: "shared@contoso.com" });
    const result = await check(rig.settings(user));
    expect(result.failed?.diagnosis).toMatchObject({ code: "SMTP_SEND_AS_DENIED", setupStep: "login" });
  });

  it("a password mailbox passes end to end over SMTP 465 (TLS) and IMAP 143 (STARTTLS)", async () => {
    const result = await check({
      ...rig.settings(rig.addUser()),
      login: PASSWORD_USER,
      password: "legacy-password-1",
      azureClientId: null,
      signInMethod: "basic",
      azureTenantId: null,
      smtpPort: 465,
      imapPort: 143,
    });
    expect(result.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      "settings:passed",
      "network:passed",
      "smtp:passed",
      "imap:passed",
    ]);
  });

  it("a wrong password is refused by both servers", async () => {
    const result = await check({
      ...rig.settings(rig.addUser()),
      login: PASSWORD_USER,
      password: "wrong",
      azureClientId: null,
      signInMethod: "basic",
      azureTenantId: null,
    });
    expect(result.steps.filter((s) => s.status === "failed").map((s) => s.diagnosis!.code)).toEqual([
      "SMTP_PASSWORD_REJECTED",
      "IMAP_PASSWORD_REJECTED",
    ]);
    expect(JSON.stringify(result.steps)).not.toContain("legacy-password");
  });

  it("basic authentication disabled: 550 5.7.30 points to the Azure fields", async () => {
    const result = await check({
      ...rig.settings(rig.addUser()),
      type: "smtp",
      login: PASSWORD_USER_2,
      password: "legacy-password-2",
      azureClientId: null,
      signInMethod: "basic",
      azureTenantId: null,
    });
    expect(result.failed?.diagnosis).toMatchObject({ code: "SMTP_BASIC_AUTH_DISABLED", setupStep: "client-id" });
  });
});

describe("TLS and connection faults", () => {
  it("a server without STARTTLS on 587", async () => {
    const peer = await plainSmtpPeer(fault, 587, false);
    try {
      const result = await sendAs("a@contoso.com", { password: "x" }, { host: fault, address: fault });
      expect(!result.ok && result.diagnosis.code).toBe("TLS_NO_STARTTLS");
    } finally {
      await peer.close();
    }
  });

  it("an IMAP server without STARTTLS on 143", async () => {
    const peer = await scriptedImapPeer(fault, 143, { startTls: false });
    try {
      const result = await openAs(
        "a@contoso.com",
        { password: "x" },
        { host: fault, address: fault, port: 143, mode: "starttls" },
      );
      expect(!result.ok && result.diagnosis.code).toBe("TLS_NO_STARTTLS");
    } finally {
      await peer.close();
    }
  });

  it("plain text where 465 expects TLS", async () => {
    const peer = await plainSmtpPeer(fault, 465, true);
    try {
      const result = await sendAs(
        "a@contoso.com",
        { password: "x" },
        { host: fault, address: fault, port: 465, mode: "implicit" },
      );
      expect(!result.ok && result.diagnosis).toMatchObject({ code: "TLS_MISMATCH", setupStep: "tls" });
    } finally {
      await peer.close();
    }
  });

  it.each([
    ["SMTP on 465", 465, "220 old ESMTP\r\n"],
    ["IMAP on 993", 993, "* OK old IMAP4 service ready.\r\n"],
  ])("a server that offers TLS 1.1 at most: %s", async (_, port, greeting) => {
    const peer = await oldTlsPeer(fault, port, rig.tls.keyPem, rig.tls.certPem, greeting);
    try {
      const endpoint = { host: fault, address: fault, port, mode: "implicit" as const };
      const result =
        port === 465
          ? await sendAs("a@contoso.com", { password: "x" }, endpoint)
          : await openAs("a@contoso.com", { password: "x" }, endpoint);
      expect(!result.ok && result.diagnosis).toMatchObject({ code: "TLS_OUTDATED", setupStep: "tls" });
    } finally {
      await peer.close();
    }
  });

  it("a certificate no trusted CA signed", async () => {
    const peer = await untrustedTlsPeer(fault, 465, "220 untrusted ESMTP\r\n");
    try {
      const result = await sendAs(
        "a@contoso.com",
        { password: "x" },
        { host: fault, address: fault, port: 465, mode: "implicit" },
      );
      expect(!result.ok && result.diagnosis.code).toBe("TLS_CERTIFICATE");
    } finally {
      await peer.close();
    }
  });

  it("a refused connection", async () => {
    const result = await check({ ...rig.settings(rig.addUser()), type: "smtp", smtpHost: fault, smtpPort: 25 }, [
      `${fault}:25`,
    ]);
    expect(result.failed).toMatchObject({
      name: "smtp",
      diagnosis: { code: "CONNECTION_REFUSED", setupStep: "servers" },
    });
  });

  it("an unknown host", async () => {
    const result = await check({ ...rig.settings(rig.addUser()), smtpHost: "no-such-host.invalid" });
    expect(result.failed).toMatchObject({ name: "network", diagnosis: { code: "DNS_NOT_FOUND" } });
    expect(result.steps.filter((s) => s.status === "skipped").map((s) => s.name)).toEqual([
      "token",
      "claims",
      "smtp",
      "imap",
    ]);
  });

  it("a loopback address that is not allowlisted gets no connection at all", async () => {
    const peer = await silentPeer(fault, 587);
    try {
      const result = await check({ ...rig.settings(rig.addUser()), type: "smtp", smtpHost: fault });
      expect(result.failed).toMatchObject({ name: "network", diagnosis: { code: "NETWORK_REFUSED_ADDRESS" } });
      expect(peer.connections()).toBe(0);
    } finally {
      await peer.close();
    }
  });
});

describe.concurrent("servers that stay silent end within their budget + 2 s", () => {
  it("SMTP: connection accepted, no greeting (10 s greeting timeout)", async () => {
    const peer = await silentPeer(fault, 2587);
    try {
      const started = Date.now();
      const result = await sendAs("a@contoso.com", { password: "x" }, { host: fault, address: fault, port: 2587 });
      expect(!result.ok && result.diagnosis.code).toBe("NO_GREETING");
      expect(Date.now() - started).toBeLessThan(10_000 + 2_000);
    } finally {
      await peer.close();
    }
  });

  it("SMTP: a TLS-only server on a STARTTLS port", async () => {
    const peer = await tlsOnlyPeer(fault2, 587, rig.tls.keyPem, rig.tls.certPem);
    try {
      const started = Date.now();
      const result = await sendAs("a@contoso.com", { password: "x" }, { host: fault2, address: fault2 });
      expect(!result.ok && result.diagnosis).toMatchObject({ code: "NO_GREETING", setupStep: "tls" });
      expect(Date.now() - started).toBeLessThan(10_000 + 2_000);
    } finally {
      await peer.close();
    }
  });

  it("IMAP: silent on 993 (10 s connection timeout)", async () => {
    const peer = await silentPeer(fault, 993);
    try {
      const started = Date.now();
      const result = await openAs("a@contoso.com", { password: "x" }, { host: fault, address: fault });
      expect(!result.ok && ["CONNECTION_TIMEOUT", "NO_GREETING"]).toContain(!result.ok && result.diagnosis.code);
      expect(Date.now() - started).toBeLessThan(10_000 + 2_000);
    } finally {
      await peer.close();
    }
  }, 20_000);
}, 20_000);
