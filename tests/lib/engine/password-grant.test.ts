import { PublicClientApplication } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { tokenCaches } from "@/db/schema";
import { classifyTokenError } from "@/lib/engine/classify-token";
import type { AcquireRequest, TokenCacheStore } from "@/lib/engine/credentials";
import { passwordGrant, scopesFor } from "@/lib/engine/password-grant";
import type { CheckSettings, Cloud } from "@/lib/engine/settings";
import { createMailbox } from "@/lib/mailbox/save";
import { dropTokenCache, mailboxTokenCacheStore } from "@/lib/mailbox/token-cache-store";
import { freshDb, seedWorld } from "../../support/db";
import { mailboxInput } from "../../support/mailbox";
import { type EmuTenant, EntraEmulator } from "../../support/rig/entra-emulator";
import { rigTlsFromEnv } from "../../support/rig/tls";

let entra: EntraEmulator;
let tenant: EmuTenant;
const CLIENT = "11111111-2222-4333-8444-555555555555";
const BOTH = ["SMTP.Send", "IMAP.AccessAsUser.All"];

beforeAll(async () => {
  entra = await new EntraEmulator(rigTlsFromEnv()).start();
  tenant = entra.addTenant({
    domains: ["contoso.onmicrosoft.com"],
    apps: [
      { clientId: CLIENT, publicClient: true, consented: BOTH },
      { clientId: "22222222-2222-4333-8444-555555555555", publicClient: false, consented: BOTH },
      { clientId: "33333333-2222-4333-8444-555555555555", publicClient: true, consented: [] },
    ],
    users: [
      { upn: "box@contoso.com", password: "right-password" },
      { upn: "locked@contoso.com", password: "pw", state: "locked" },
      { upn: "expired@contoso.com", password: "pw", state: "expired" },
      { upn: "disabled@contoso.com", password: "pw", state: "disabled" },
      { upn: "mfa@contoso.com", password: "pw", mfa: "required" },
      { upn: "mfareg@contoso.com", password: "pw", mfa: "registration" },
      { upn: "blocked@contoso.com", password: "pw", blockedByConditionalAccess: true },
    ],
  });
});

afterAll(() => entra.stop());

function settings(overrides: Partial<CheckSettings> = {}): CheckSettings {
  return {
    type: "smtp_imap",
    transport: "smtp_imap",
    login: "box@contoso.com",
    password: "right-password",
    smtpHost: "smtp.office365.com",
    smtpPort: 587,
    imapHost: "outlook.office365.com",
    imapPort: 993,
    useTls: true,
    azureClientId: CLIENT,
    azureTenantId: tenant.id,
    cloud: "global",
    signInMethod: "password",
    ...overrides,
  };
}

const acquire = (s: CheckSettings, extra: Partial<AcquireRequest> = {}) =>
  passwordGrant.acquire({ settings: s, authorityHost: entra.authorityHost, ...extra });

describe("token acquisition against the Entra emulator", () => {
  it("gets an Outlook token with the password grant", async () => {
    const before = entra.tokenRequests("password");
    const result = await acquire(settings());
    expect(result).toMatchObject({ ok: true, source: "grant" });
    expect(entra.tokenRequests("password")).toBe(before + 1);
    expect(entra.requests.at(-1)).toMatchObject({ tenant: tenant.id, clientId: CLIENT });
  });

  it("asks for one audience only, by Type", () => {
    const by = (type: "smtp" | "imap" | "smtp_imap", transport: "smtp_imap" | "graph", cloud: Cloud) =>
      scopesFor({ type, transport, cloud });
    expect(by("smtp", "smtp_imap", "global")).toEqual(["https://outlook.office.com/SMTP.Send"]);
    expect(by("imap", "smtp_imap", "usgov")).toEqual(["https://outlook.office365.us/IMAP.AccessAsUser.All"]);
    // Microsoft Graph: one audience too, its mail permissions; in a national cloud, that cloud's Graph.
    expect(by("smtp_imap", "graph", "global")).toEqual([
      "https://graph.microsoft.com/Mail.Send",
      "https://graph.microsoft.com/Mail.ReadWrite",
    ]);
    expect(by("smtp", "graph", "china")).toEqual(["https://microsoftgraph.chinacloudapi.cn/Mail.Send"]);
  });

  it.each([
    ["AADSTS7000218", { azureClientId: "22222222-2222-4333-8444-555555555555" }, "public-client-flows"],
    ["AADSTS65001", { azureClientId: "33333333-2222-4333-8444-555555555555" }, "admin-consent"],
    ["AADSTS50126", { password: "wrong-password" }, "password"],
    ["AADSTS50034", { login: "nobody@contoso.com" }, "login"],
    ["AADSTS700016", { azureClientId: "99999999-2222-4333-8444-555555555555" }, "client-id"],
    ["AADSTS90002", { azureTenantId: "00000000-0000-4000-8000-000000000000" }, "tenant-id"],
    ["AADSTS90002", { azureTenantId: "fabrikam.onmicrosoft.com" }, "tenant-id"],
    ["AADSTS50053", { login: "locked@contoso.com", password: "pw" }, "account"],
    ["AADSTS50055", { login: "expired@contoso.com", password: "pw" }, "account"],
    ["AADSTS50057", { login: "disabled@contoso.com", password: "pw" }, "account"],
    ["AADSTS50076", { login: "mfa@contoso.com", password: "pw" }, "conditional-access"],
    ["AADSTS50079", { login: "mfareg@contoso.com", password: "pw" }, "conditional-access"],
    ["AADSTS53003", { login: "blocked@contoso.com", password: "pw" }, "conditional-access"],
  ] as const)("recognises %s (%j)", async (code, overrides, setupStep) => {
    const result = await acquire(settings(overrides));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnosis).toMatchObject({ code, setupStep });
    expect(result.diagnosis.detail).toContain(code);
    expect(result.diagnosis.detail).not.toContain("pw");
    expect(result.requests).toBe(1);
  });

  it("recognises a malformed tenant (AADSTS900023)", async () => {
    const result = await acquire(settings({ azureTenantId: "not_a_tenant" }));
    expect(!result.ok && result.diagnosis.code).toBe("AADSTS900023");
  });

  it("reports an unreachable authority and a silent one within the timeout", async () => {
    const unreachable = await acquire(settings(), { authorityHost: "https://127.0.0.1:1" });
    expect(!unreachable.ok && unreachable.diagnosis.code).toBe("TOKEN_UNREACHABLE");
    entra.delayMs = 3000;
    const started = Date.now();
    const slow = await acquire(settings(), { timeoutMs: 500 });
    entra.delayMs = 0;
    expect(!slow.ok && slow.diagnosis.code).toBe("TOKEN_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe("the sealed token cache", () => {
  let db: Db;
  let cache: TokenCacheStore;
  let mailboxId: number;

  beforeAll(async () => {
    db = await freshDb();
    const world = await seedWorld(db);
    const mailbox = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { password: "x" }));
    mailboxId = mailbox.id;
    cache = mailboxTokenCacheStore(db, mailbox, settings(), entra.authorityHost);
  });

  it("serves a second check from the cache with no token request, sealed at rest", async () => {
    const first = await acquire(settings(), { cache });
    expect(first).toMatchObject({ ok: true, source: "grant" });
    const before = entra.tokenRequests();
    const second = await acquire(settings(), { cache });
    expect(second).toMatchObject({ ok: true, source: "cache", requests: 0 });
    expect(entra.tokenRequests()).toBe(before);
    const stored = JSON.stringify(await db.select().from(tokenCaches));
    expect(stored).toMatch(/"cacheSealed":"v1\./);
    expect(stored).not.toContain(first.ok ? first.accessToken.slice(0, 40) : "-");
    expect(stored).not.toContain("refresh");
  });

  it("renews an expired access token with the refresh token, not the password", async () => {
    await dropTokenCache(db, mailboxId);
    entra.accessTokenLifetime = 301; // MSAL treats tokens within 300 s of expiry as expired
    expect(await acquire(settings(), { cache })).toMatchObject({ ok: true, source: "grant" });
    entra.accessTokenLifetime = 3600;
    const password = entra.tokenRequests("password");
    const refresh = entra.tokenRequests("refresh_token");
    await new Promise((r) => setTimeout(r, 2100));
    const renewed = await acquire({ ...settings(), password: null }, { cache });
    expect(renewed).toMatchObject({ ok: true, source: "refresh" });
    expect(entra.tokenRequests("password")).toBe(password);
    expect(entra.tokenRequests("refresh_token")).toBe(refresh + 1);
  });
});

describe("grants that can no longer be used", () => {
  let db: Db;
  let cache: TokenCacheStore;

  beforeAll(async () => {
    db = await freshDb();
    const world = await seedWorld(db);
    const mailbox = await createMailbox(db, world.root, mailboxInput(world.tenantA.id, { password: "x" }));
    tenant.users.push({ upn: "revoked@contoso.com", password: "pw-revoked" });
    cache = mailboxTokenCacheStore(db, mailbox, settings({ login: "revoked@contoso.com" }), entra.authorityHost);
  });

  it("AADSTS50173: a revoked refresh token, with no password to fall back on", async () => {
    const s = settings({ login: "revoked@contoso.com", password: "pw-revoked" });
    entra.accessTokenLifetime = 301;
    expect((await acquire(s, { cache })).ok).toBe(true);
    entra.accessTokenLifetime = 3600;
    entra.revokeRefreshTokens("revoked@contoso.com");
    await new Promise((r) => setTimeout(r, 2100));
    const result = await acquire({ ...s, password: null }, { cache });
    expect(!result.ok && result.diagnosis).toMatchObject({ code: "AADSTS50173", setupStep: "password" });
  });

  it("a revoked refresh token falls back to one password grant when a password is stored", async () => {
    const s = settings({ login: "revoked@contoso.com", password: "pw-revoked" });
    const before = entra.tokenRequests("password");
    const result = await acquire(s, { cache });
    expect(result).toMatchObject({ ok: true, source: "grant" });
    expect(entra.tokenRequests("password")).toBe(before + 1);
  });

  it("AADSTS70011: scopes of two resources in one request are refused (and classified as our defect)", async () => {
    const app = new PublicClientApplication({
      auth: {
        clientId: CLIENT,
        authority: `${entra.authorityHost}/${tenant.id}`,
        knownAuthorities: [new URL(entra.authorityHost).host],
      },
      system: { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } },
    });
    const error = await app
      .acquireTokenByUsernamePassword({
        scopes: ["https://outlook.office.com/SMTP.Send", "https://graph.microsoft.com/Mail.Send"],
        username: "box@contoso.com",
        password: "right-password",
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyTokenError(error, null, [])).toMatchObject({ code: "AADSTS70011", setupStep: "product" });
  });
});
