import { createHash, randomBytes, randomUUID, X509Certificate } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import {
  type CryptoKey,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importX509,
  type JWK,
  jwtVerify,
  SignJWT,
} from "jose";
import type { EmuApp, EmuTenant, EmuUser } from "./entra-types";
import { GRAPH_RESOURCE, type GraphDirectory, GraphEmulator, newDirectory, ROLE_TEMPLATE_IDS } from "./graph-emulator";
import type { RigTls } from "./tls";

/** The role template IDs every member and every guest hold (in `wids`, never in Graph's directory roles). */
const USER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509";
const GUEST_ROLE = "10dae51f-b6af-4016-8d66-8c2a99b929b3";

/**
 * A local stand-in for Microsoft Entra ID's v2.0 endpoints: HTTPS, RS256-signed JWTs shaped like
 * Entra's v1 Outlook access tokens, and Entra's error body (error, AADSTS description, error_codes…).
 */

const OUTLOOK = "https://outlook.office.com";

export type { EmuApp, EmuTenant, EmuUser } from "./entra-types";

type Grant = { tenant: EmuTenant; app: EmuApp; user: EmuUser; scopes: string[]; revoked: boolean };

/** A device-code sign-in waiting at "Microsoft": the test hooks play the user who types the code. */
type DeviceCodeEntry = {
  deviceCode: string;
  userCode: string;
  tenant: EmuTenant;
  app: EmuApp;
  scopes: string[];
  resource: string;
  expiresAt: number;
  state: "pending" | "approved" | "declined";
  user?: EmuUser;
  /** Signed in with an account the tenant does not hold (a personal Microsoft account): AADSTS50020. */
  outsider?: string;
  /** Answers slow_down to this many polls, whatever their pace. */
  slowDowns: number;
  lastPollAt?: number;
};

// MSAL sends the short name; RFC 8628 clients send the URN. Entra accepts both.
const DEVICE_CODE_GRANTS = ["device_code", "urn:ietf:params:oauth:grant-type:device_code"];
const DAY_MS = 86_400_000;

export class EntraEmulator {
  readonly tenants: EmuTenant[] = [];
  readonly requests: { grant: string; tenant: string; clientId: string }[] = [];
  accessTokenLifetime = 3600;
  delayMs = 0;
  private server?: https.Server;
  private privateKey?: CryptoKey;
  private publicKey?: CryptoKey;
  private directories = new Map<string, GraphDirectory>();
  /** Microsoft Graph's setup endpoints on the same server, under /v1.0 (ENTRA_GRAPH_HOST in tests). */
  readonly graph = new GraphEmulator(
    () => this.tenants,
    (tenant) => this.directoryOf(tenant),
    () => this.publicKey!,
  );
  private jwk?: JWK;
  readonly kid = randomBytes(8).toString("hex");
  publicKeyPem = "";
  private refreshTokens = new Map<string, { grant: Grant; issuedAt: number }>();
  /** Seconds between device-code polls, as Entra's answer says (Entra: 5). */
  deviceCodeInterval = 5;
  /** Whether user tokens carry `wids` (Entra leaves it out when a token would grow too large). */
  widsInTokens = true;
  /** Seconds a device code stays valid (Entra: 900). */
  deviceCodeLifetime = 900;
  private deviceCodes = new Map<string, DeviceCodeEntry>();
  /** Entra ends a refresh token unused for 90 days (AADSTS700082). */
  refreshTokenMaxInactiveMs = 90 * DAY_MS;
  /** Refuse a refresh token once it has been exchanged, so a client that drops the rotated one fails. */
  strictRefreshRotation = false;

  constructor(private readonly tls: RigTls) {}

  get authorityHost(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: this.kid, use: "sig", alg: "RS256" };
    this.publicKeyPem = await exportSPKI(publicKey);
    this.server = https.createServer(
      { key: fs.readFileSync(this.tls.keyPem), cert: fs.readFileSync(this.tls.certPem) },
      (req, res) => {
        void this.handle(req, res).catch((error) =>
          json(res, 500, { error: "server_error", error_description: String(error) }),
        );
      },
    );
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  addTenant(tenant: Partial<EmuTenant> & { domains?: string[] } = {}): EmuTenant {
    const full: EmuTenant = {
      id: tenant.id ?? randomUUID(),
      domains: tenant.domains ?? [],
      users: tenant.users ?? [],
      apps: tenant.apps ?? [],
      ...(tenant.graphResource ? { graphResource: tenant.graphResource } : {}),
    };
    this.tenants.push(full);
    return full;
  }

  /** The tenant's directory as Microsoft Graph shows it (Exchange Online's service principal from the start). */
  directoryOf(tenant: EmuTenant): GraphDirectory {
    let directory = this.directories.get(tenant.id);
    if (!directory) {
      directory = newDirectory();
      this.directories.set(tenant.id, directory);
    }
    return directory;
  }

  tokenRequests(grant?: string): number {
    return this.requests.filter((r) => !grant || r.grant === grant).length;
  }

  revokeRefreshTokens(upn: string): void {
    for (const { grant } of this.refreshTokens.values()) if (grant.user.upn === upn) grant.revoked = true;
  }

  /** Makes every refresh token of the user look unused for this long (past 90 days: AADSTS700082). */
  ageRefreshTokens(upn: string, ms: number): void {
    for (const entry of this.refreshTokens.values()) if (entry.grant.user.upn === upn) entry.issuedAt -= ms;
  }

  refreshTokensOf(upn: string): number {
    return [...this.refreshTokens.values()].filter((e) => e.grant.user.upn === upn && !e.grant.revoked).length;
  }

  /** The newest device code still waiting for its user, as a test reads it off the page. */
  pendingDeviceCode(): { userCode: string; clientId: string } | undefined {
    const pending = [...this.deviceCodes.values()].filter((e) => e.state === "pending" && e.expiresAt > Date.now());
    const last = pending.at(-1);
    return last && { userCode: last.userCode, clientId: last.app.clientId };
  }

  /** The user types the code and signs in as `upn` (MFA, if any, is done at Microsoft). */
  approveDeviceCode(userCode: string, upn: string): void {
    const entry = this.deviceCodeEntry(userCode);
    const user = entry.tenant.users.find((u) => u.upn.toLowerCase() === upn.toLowerCase());
    if (!user) throw new Error(`no user ${upn} in the tenant`);
    entry.state = "approved";
    entry.user = user;
  }

  /** Someone signs in with a personal Microsoft account that is not in the tenant, as Entra answers it. */
  approveDeviceCodeAsOutsider(userCode: string, email: string): void {
    const entry = this.deviceCodeEntry(userCode);
    entry.state = "approved";
    entry.outsider = email;
  }

  declineDeviceCode(userCode: string): void {
    this.deviceCodeEntry(userCode).state = "declined";
  }

  expireDeviceCode(userCode: string): void {
    this.deviceCodeEntry(userCode).expiresAt = Date.now() - 1;
  }

  /** Entra loses the request: the next poll is answered bad_verification_code. */
  forgetDeviceCode(userCode: string): void {
    this.deviceCodes.delete(this.deviceCodeEntry(userCode).deviceCode);
  }

  /** The secret half of a device-code sign-in, for tests that prove it goes nowhere else. */
  deviceCodeOf(userCode: string): string {
    return this.deviceCodeEntry(userCode).deviceCode;
  }

  slowDownDeviceCode(userCode: string, polls = 1): void {
    this.deviceCodeEntry(userCode).slowDowns += polls;
  }

  private deviceCodeEntry(userCode: string): DeviceCodeEntry {
    const entry = [...this.deviceCodes.values()].find((e) => e.userCode === userCode);
    if (!entry) throw new Error(`no device code ${userCode}`);
    return entry;
  }

  /** Signs an access token with the emulator's key, for tests that hand servers a crafted token. */
  async mintAccessToken(claims: Record<string, unknown>, lifetime = this.accessTokenLifetime): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ver: "1.0", iat: now, nbf: now - 5, exp: now + lifetime, ...claims })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: this.kid })
      .sign(this.privateKey!);
  }

  private async handle(
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
  ): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const url = new URL(req.url ?? "/", this.authorityHost);
    if (url.pathname.startsWith("/v1.0/")) return this.graph.handle(req, res, url);
    const [tenantRef, ...rest] = url.pathname.split("/").filter(Boolean);
    const route = rest.join("/");
    const tenant = this.findTenant(tenantRef ?? "");
    if (route === "v2.0/.well-known/openid-configuration") {
      if (!tenant) return tenantNotFound(res, tenantRef, "invalid_tenant");
      return json(res, 200, this.openIdConfiguration(tenant));
    }
    if (route === "discovery/v2.0/keys") return json(res, 200, { keys: [this.jwk] });
    if (route === "oauth2/v2.0/devicecode" && req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      this.requests.push({ grant: "devicecode", tenant: tenantRef ?? "", clientId: form.get("client_id") ?? "" });
      if (!tenant) return tenantNotFound(res, tenantRef, "invalid_request");
      return this.deviceAuthorization(res, tenant, form);
    }
    if (route !== "oauth2/v2.0/token" || req.method !== "POST") return json(res, 404, { error: "not_found" });
    const form = new URLSearchParams(await readBody(req));
    const grant = form.get("grant_type") ?? "";
    this.requests.push({ grant, tenant: tenantRef ?? "", clientId: form.get("client_id") ?? "" });
    if (!/^[0-9a-f-]{36}$|^[a-z0-9.-]+\.[a-z]{2,}$/i.test(tenantRef ?? "")) {
      return aadError(
        res,
        400,
        "invalid_request",
        900023,
        `Specified tenant identifier '${tenantRef}' is neither a valid DNS name, nor a valid external domain.`,
      );
    }
    if (!tenant) return tenantNotFound(res, tenantRef, "invalid_request");
    if (grant === "password") return this.passwordGrant(res, tenant, form);
    if (grant === "refresh_token") return this.refreshGrant(res, form);
    if (grant === "client_credentials") return this.clientCredentialsGrant(res, tenant, form, url);
    if (DEVICE_CODE_GRANTS.includes(grant)) return this.deviceCodeGrant(res, form);
    return aadError(
      res,
      400,
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grant}'.`,
    );
  }

  private async passwordGrant(
    res: import("node:http").ServerResponse,
    tenant: EmuTenant,
    form: URLSearchParams,
  ): Promise<void> {
    const clientId = form.get("client_id") ?? "";
    const app = findApp(tenant, clientId);
    if (!app) return appNotFound(res, tenant, clientId);
    if (!app.publicClient) return aadError(res, 401, "invalid_client", 7000218, CLIENT_AUTH_MISSING);
    const requested = requestedScopes(form);
    if (requested.resources.length > 1) return mixedResources(res, requested.scopes);
    const username = (form.get("username") ?? "").toLowerCase();
    const user = tenant.users.find((u) => u.upn.toLowerCase() === username);
    if (!user)
      return aadError(
        res,
        400,
        "invalid_grant",
        50034,
        `The user account ${username} does not exist in the ${tenant.id} directory. To sign into this application, the account must be added to the directory.`,
      );
    if (user.password !== form.get("password"))
      return aadError(
        res,
        400,
        "invalid_grant",
        50126,
        "Error validating credentials due to invalid username or password.",
      );
    if (user.state === "locked")
      return aadError(
        res,
        400,
        "invalid_grant",
        50053,
        "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
      );
    if (user.state === "expired") return aadError(res, 401, "user_password_expired", 50055, "The password is expired.");
    if (user.state === "disabled") return aadError(res, 400, "invalid_grant", 50057, "The user account is disabled.");
    if (user.mfa === "required")
      return aadError(
        res,
        400,
        "invalid_grant",
        50076,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access 'Office 365 Exchange Online'.",
        "basic_action",
      );
    if (user.mfa === "registration")
      return aadError(
        res,
        400,
        "invalid_grant",
        50079,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication.",
        "basic_action",
      );
    if (user.blockedByConditionalAccess) return blockedByConditionalAccess(res);
    if (lacksConsent(app, requested.permissions)) return consentRequired(res, app);
    const granted: Grant = {
      tenant,
      app,
      user,
      scopes: requested.permissions.filter((p) => app.consented.includes(p)),
      revoked: false,
    };
    return json(res, 200, await this.tokenResponse(granted, requested.resources[0] ?? OUTLOOK));
  }

  /** App-only: the app proves itself with a secret or a certificate-signed assertion; roles, no user. */
  private async clientCredentialsGrant(
    res: import("node:http").ServerResponse,
    tenant: EmuTenant,
    form: URLSearchParams,
    url: URL,
  ): Promise<void> {
    const clientId = form.get("client_id") ?? "";
    const app = findApp(tenant, clientId);
    if (!app) return appNotFound(res, tenant, clientId);
    const refusal = await this.authenticateClient(app, form, `${url.origin}${url.pathname}`);
    if (refusal) return aadError(res, 401, "invalid_client", refusal.code, refusal.description);
    const scope = form.get("scope") ?? "";
    if (!scope.endsWith("/.default")) {
      const description = `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`;
      return aadError(res, 400, "invalid_scope", 1002012, description);
    }
    app.servicePrincipalId ??= randomUUID();
    const resource = scope.slice(0, -"/.default".length);
    const accessToken = await this.mintAccessToken({
      aud: app.audience ?? resource,
      iss: `https://sts.windows.net/${tenant.id}/`,
      appid: app.clientId,
      idtyp: "app",
      oid: app.servicePrincipalId,
      sub: app.servicePrincipalId,
      // Each resource's token carries that resource's application permissions only.
      roles: (app.appRoles ?? []).filter((role) => EXCHANGE_APP_ROLES.includes(role) !== /graph/i.test(resource)),
      tid: tenant.id,
    });
    const lifetime = this.accessTokenLifetime;
    return json(res, 200, {
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    });
  }

  private async authenticateClient(
    app: EmuApp,
    form: URLSearchParams,
    tokenEndpoint: string,
  ): Promise<{ code: number; description: string } | null> {
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      const match = app.secrets?.find((s) => s.value === secret);
      if (!match) {
        const description = `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`;
        return { code: 7000215, description };
      }
      if (match.expiresAt && match.expiresAt.getTime() < Date.now()) {
        return { code: 7000222, description: `The provided client secret keys for app '${app.clientId}' are expired.` };
      }
      return null;
    }
    if (assertion !== null) return this.checkAssertion(app, assertion, tokenEndpoint);
    return { code: 7000216, description: CLIENT_AUTH_MISSING };
  }

  /** A client assertion signed by the key of a certificate on the app, named by x5t#S256 (or x5t). */
  private async checkAssertion(
    app: EmuApp,
    assertion: string,
    tokenEndpoint: string,
  ): Promise<{ code: number; description: string } | null> {
    const header = decodeProtectedHeader(assertion) as { alg?: string; "x5t#S256"?: string; x5t?: string };
    const certificate = (app.certificates ?? []).find((pem) => {
      const der = new X509Certificate(pem).raw;
      return (
        header["x5t#S256"] === createHash("sha256").update(der).digest("base64url") ||
        header.x5t === createHash("sha1").update(der).digest("base64url")
      );
    });
    if (!certificate) {
      const description = `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${header["x5t#S256"] ?? header.x5t}']`;
      return { code: 700027, description };
    }
    try {
      const key = await importX509(certificate, header.alg ?? "RS256");
      // Entra allows five minutes of clock skew; MSAL rounds nbf to the nearest second.
      await jwtVerify(assertion, key, {
        audience: tokenEndpoint,
        issuer: app.clientId,
        subject: app.clientId,
        clockTolerance: 300,
      });
      if (Date.parse(new X509Certificate(certificate).validTo) < Date.now()) {
        return {
          code: 700027,
          description: "Client assertion contains an invalid signature. [Reason - The key used is expired.]",
        };
      }
      return null;
    } catch {
      return { code: 700027, description: "Client assertion failed signature validation." };
    }
  }

  /** POST /devicecode: a code for the user to type at Microsoft, and a device code for the poll. */
  private async deviceAuthorization(
    res: import("node:http").ServerResponse,
    tenant: EmuTenant,
    form: URLSearchParams,
  ): Promise<void> {
    const clientId = form.get("client_id") ?? "";
    const app = findApp(tenant, clientId);
    if (!app) return appNotFound(res, tenant, clientId);
    const requested = requestedScopes(form);
    if (requested.resources.length > 1) return mixedResources(res, requested.scopes);
    // A tenant in another cloud knows its own cloud's Graph, not the global one (and the reverse).
    const graph = requested.resources.find((r) => /graph/i.test(r));
    if (graph && graph !== (tenant.graphResource ?? GRAPH_RESOURCE)) {
      const description = `The resource principal named ${graph} was not found in the tenant named ${tenant.id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`;
      return aadError(res, 400, "invalid_resource", 500011, description);
    }
    const letters = "BCDFGHJKLMNPQRSTVWXZ";
    const userCode = Array.from(randomBytes(9), (b) => letters[b % letters.length]).join("");
    const entry: DeviceCodeEntry = {
      deviceCode: randomBytes(48).toString("base64url"),
      userCode,
      tenant,
      app,
      scopes: requested.permissions,
      resource: requested.resources[0] ?? OUTLOOK,
      expiresAt: Date.now() + this.deviceCodeLifetime * 1000,
      state: "pending",
      slowDowns: 0,
    };
    this.deviceCodes.set(entry.deviceCode, entry);
    const verificationUri = "https://microsoft.com/devicelogin";
    return json(res, 200, {
      user_code: userCode,
      device_code: entry.deviceCode,
      verification_uri: verificationUri,
      expires_in: this.deviceCodeLifetime,
      interval: this.deviceCodeInterval,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  }

  /** The poll: pending until the user acts, then tokens, or the answer that says why not. */
  private async deviceCodeGrant(res: import("node:http").ServerResponse, form: URLSearchParams): Promise<void> {
    const entry = this.deviceCodes.get(form.get("device_code") ?? "");
    if (!entry) {
      const description =
        "The provided value for the 'device_code' is not valid. Verification code was not recognized.";
      return aadError(res, 400, "bad_verification_code", 70018, description);
    }
    const { app } = entry;
    if (!app.publicClient) return aadError(res, 401, "invalid_client", 7000218, CLIENT_AUTH_MISSING);
    const now = Date.now();
    if (entry.expiresAt < now) {
      this.deviceCodes.delete(entry.deviceCode);
      return aadError(res, 400, "expired_token", 70019, "Verification code expired.");
    }
    const tooSoon = entry.lastPollAt !== undefined && now - entry.lastPollAt < this.deviceCodeInterval * 1000 - 250;
    entry.lastPollAt = now;
    if (entry.slowDowns > 0 || tooSoon) {
      entry.slowDowns = Math.max(0, entry.slowDowns - 1);
      return aadError(res, 400, "slow_down", 70016, "The client is polling too frequently. Slow down.");
    }
    if (entry.state === "declined") {
      this.deviceCodes.delete(entry.deviceCode);
      return aadError(res, 400, "authorization_declined", 70000, "The user declined the sign-in request.");
    }
    if (entry.outsider) {
      this.deviceCodes.delete(entry.deviceCode);
      const description = `User account '${entry.outsider}' from identity provider 'live.com' does not exist in tenant '${entry.tenant.id}' and cannot access the application '${app.clientId}'(${app.clientId}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`;
      return aadError(res, 400, "invalid_grant", 50020, description);
    }
    if (entry.state === "pending" || !entry.user) {
      const description = "OAuth 2.0 device flow error. Authorization is pending. Continue polling.";
      return aadError(res, 400, "authorization_pending", 70016, description);
    }
    this.deviceCodes.delete(entry.deviceCode);
    const user = entry.user;
    if (user.blockedByConditionalAccess) return blockedByConditionalAccess(res);
    if (lacksConsent(app, entry.scopes)) return consentRequired(res, app);
    const scopes = entry.scopes.filter((p) => app.consented.includes(p));
    const grant: Grant = { tenant: entry.tenant, app, user, scopes, revoked: false };
    return json(res, 200, await this.tokenResponse(grant, entry.resource));
  }

  private async refreshGrant(res: import("node:http").ServerResponse, form: URLSearchParams): Promise<void> {
    const presented = form.get("refresh_token") ?? "";
    const entry = this.refreshTokens.get(presented);
    if (!entry || Date.now() - entry.issuedAt > this.refreshTokenMaxInactiveMs) {
      const description =
        "The refresh token has expired due to inactivity. The token was issued on a date more than 90 days ago and was inactive for 90.00:00:00.";
      return aadError(res, 400, "invalid_grant", 700082, description);
    }
    const { grant } = entry;
    if (grant.revoked)
      return aadError(
        res,
        400,
        "invalid_grant",
        50173,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
      );
    // An administrator who revokes the consent (deletes the permission grant) stops its refresh tokens too.
    if (lacksConsent(grant.app, grant.scopes)) return consentRequired(res, grant.app);
    if (this.strictRefreshRotation) this.refreshTokens.delete(presented);
    // A refresh token serves every resource the app has consent for: the scope asked names one.
    const requested = requestedScopes(form);
    if (requested.resources.length > 1) return mixedResources(res, requested.scopes);
    if (requested.resources.length === 0) return json(res, 200, await this.tokenResponse(grant, OUTLOOK));
    if (lacksConsent(grant.app, requested.permissions)) return consentRequired(res, grant.app);
    const scopes = requested.permissions.filter((p) => grant.app.consented.includes(p));
    return json(res, 200, await this.tokenResponse({ ...grant, scopes }, requested.resources[0]!));
  }

  private async tokenResponse(grant: Grant, resource: string) {
    const { tenant, app, user } = grant;
    user.oid ??= randomUUID();
    const oid = user.oid;
    const upn = user.tokenUpn ?? user.upn;
    const accessToken = await this.mintAccessToken({
      aud: app.audience ?? resource,
      iss: `https://sts.windows.net/${tenant.id}/`,
      appid: app.clientId,
      scp: grant.scopes.join(" "),
      upn,
      unique_name: upn,
      tid: tenant.id,
      oid,
      sub: randomBytes(16).toString("base64url"),
      // The directory roles' template IDs, as Entra puts them into a user's tokens (unless left out).
      ...(this.widsInTokens
        ? {
            wids: [
              ...(user.roles ?? []).map((role) => ROLE_TEMPLATE_IDS[role] ?? role),
              user.guest ? GUEST_ROLE : USER_ROLE,
            ],
          }
        : {}),
      ...(user.personal
        ? { acct: 1, idp: "live.com" }
        : user.guest
          ? { acct: 1, idp: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/" }
          : { acct: 0 }),
    });
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({
      aud: app.clientId,
      iss: `${this.authorityHost}/${tenant.id}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user.upn,
      oid,
      preferred_username: user.upn,
      sub: oid,
      tid: tenant.id,
      ver: "2.0",
    })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: this.kid })
      .sign(this.privateKey!);
    const refreshToken = randomBytes(32).toString("base64url");
    this.refreshTokens.set(refreshToken, { grant, issuedAt: Date.now() });
    return {
      token_type: "Bearer",
      scope: [...grant.scopes.map((p) => `${resource}/${p}`), "openid", "profile", "offline_access"].join(" "),
      expires_in: this.accessTokenLifetime,
      ext_expires_in: this.accessTokenLifetime,
      access_token: accessToken,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: Buffer.from(JSON.stringify({ uid: oid, utid: tenant.id })).toString("base64url"),
    };
  }

  private openIdConfiguration(tenant: EmuTenant) {
    const base = `${this.authorityHost}/${tenant.id}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${this.authorityHost}/${tenant.id}/discovery/v2.0/keys`,
      issuer: `${base}/v2.0`,
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    };
  }

  private findTenant(ref: string): EmuTenant | undefined {
    const key = ref.toLowerCase();
    return this.tenants.find((t) => t.id.toLowerCase() === key || t.domains.some((d) => d.toLowerCase() === key));
  }
}

type Res = import("node:http").ServerResponse;

/** Office 365 Exchange Online's application permissions; every other one is Microsoft Graph's here. */
const EXCHANGE_APP_ROLES = ["full_access_as_app", "SMTP.SendAsApp", "IMAP.AccessAsApp", "POP.AccessAsApp"];

const CLIENT_AUTH_MISSING =
  "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";

function findApp(tenant: EmuTenant, clientId: string): EmuApp | undefined {
  return tenant.apps.find(
    (a) =>
      a.clientId.toLowerCase() === clientId.toLowerCase() &&
      !a.missingServicePrincipal &&
      (a.visibleFrom === undefined || Date.now() >= a.visibleFrom),
  );
}

function appNotFound(res: Res, tenant: EmuTenant, clientId: string): void {
  const description = `Application with identifier '${clientId}' was not found in the directory '${tenant.domains[0] ?? tenant.id}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`;
  aadError(res, 400, "unauthorized_client", 700016, description);
}

function tenantNotFound(res: Res, ref: string | undefined, error: string): void {
  const description = `Tenant '${ref}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`;
  aadError(res, 400, error, 90002, description);
}

/** The delegated scopes of a request: the permission names, and the resources they belong to. */
function requestedScopes(form: URLSearchParams): { scopes: string[]; resources: string[]; permissions: string[] } {
  const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
  const qualified = scopes.filter((s) => s.includes("/"));
  return {
    scopes,
    resources: [...new Set(qualified.map((s) => s.slice(0, s.lastIndexOf("/"))))],
    permissions: qualified.map((s) => s.slice(s.lastIndexOf("/") + 1)),
  };
}

/** Entra takes the scopes of one resource per request (AADSTS70011). */
function mixedResources(res: Res, scopes: string[]): void {
  const description = `The provided value for the input parameter 'scope' is not valid. The scope ${scopes.join(" ")} is not valid. static scope limit exceeded.`;
  aadError(res, 400, "invalid_scope", 70011, description);
}

/** Some asked-for permission has no consent, and the app is not one that silently leaves it out. */
function lacksConsent(app: EmuApp, permissions: string[]): boolean {
  return !app.dropUnconsented && permissions.some((p) => !app.consented.includes(p));
}

function consentRequired(res: Res, app: EmuApp): void {
  const description = `The user or administrator has not consented to use the application with ID '${app.clientId}'. Send an interactive authorization request for this user and resource.`;
  aadError(res, 400, "invalid_grant", 65001, description, "consent_required");
}

function blockedByConditionalAccess(res: Res): void {
  const description =
    "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.";
  aadError(res, 400, "invalid_grant", 53003, description);
}

function aadError(
  res: import("node:http").ServerResponse,
  status: number,
  error: string,
  code: number,
  description: string,
  suberror?: string,
): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  json(res, status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    ...(suberror ? { suberror } : {}),
  });
}

function json(res: import("node:http").ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function readBody(req: import("node:http").IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
