import { randomUUID } from "node:crypto";
import { type CryptoKey, decodeJwt, type JWTPayload, jwtVerify } from "jose";
import type { EmuApp, EmuTenant, EmuUser } from "./entra-types";
import { type GraphCaller, GraphMail } from "./graph-mail";

/**
 * The Microsoft Graph v1.0 endpoints the one-click Entra setup uses, per emulator tenant: applications,
 * service principals, delegated permission grants and app role assignments, with Graph's error body
 * ({ error: { code, message, innerError } }), the signed-in admin's directory roles, and 429 with
 * Retry-After on demand. What the setup creates becomes an app of the tenant: ROPC, device code and
 * client credentials then work with it as with any other.
 */

export const GRAPH_RESOURCE = "https://graph.microsoft.com";
const EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000";
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/** Roles that may register apps and grant tenant-wide consent. */
/** The directory roles that may grant tenant-wide consent (and register apps when members may not). */
const APP_ADMIN_ROLES = [
  "Global Administrator",
  "Application Administrator",
  "Cloud Application Administrator",
  "Privileged Role Administrator",
];
/** Directory role template IDs, the same in every organisation (a directoryRole's roleTemplateId, Entra's `wids`). */
export const ROLE_TEMPLATE_IDS: Record<string, string> = {
  "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
  "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
  "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
  "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
};

type Scope = { id: string; value: string; type: "Admin" | "User"; isEnabled: boolean };
type AppRole = { id: string; value: string; allowedMemberTypes: string[]; isEnabled: boolean };
type ResourceAccess = { resourceAppId: string; resourceAccess: { id: string; type: "Scope" | "Role" }[] };
type KeyCredential = {
  keyId: string;
  type: string;
  usage: string;
  key: string;
  displayName?: string;
  endDateTime?: string;
};

type GraphApplication = {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: string;
  isFallbackPublicClient: boolean;
  requiredResourceAccess: ResourceAccess[];
  keyCredentials: KeyCredential[];
  /** Who owns it: the user who created it. */
  ownerUpns: string[];
};

type GraphServicePrincipal = {
  id: string;
  appId: string;
  displayName: string;
  oauth2PermissionScopes: Scope[];
  appRoles: AppRole[];
};

type PermissionGrant = {
  id: string;
  clientId: string;
  consentType: string;
  resourceId: string;
  scope: string;
  principalId: string | null;
};
type RoleAssignment = { id: string; principalId: string; resourceId: string; appRoleId: string };

export type GraphDirectory = {
  applications: GraphApplication[];
  servicePrincipals: GraphServicePrincipal[];
  grants: PermissionGrant[];
  assignments: RoleAssignment[];
};

type Res = import("node:http").ServerResponse;
type Req = import("node:http").IncomingMessage;

/** Every tenant starts with Exchange Online's service principal, its scopes and app roles under fresh ids. */
export function newDirectory(): GraphDirectory {
  const scope = (value: string): Scope => ({ id: randomUUID(), value, type: "User", isEnabled: true });
  const role = (value: string): AppRole => ({
    id: randomUUID(),
    value,
    allowedMemberTypes: ["Application"],
    isEnabled: true,
  });
  return {
    applications: [],
    servicePrincipals: [
      {
        id: randomUUID(),
        appId: EXCHANGE_APP_ID,
        displayName: "Office 365 Exchange Online",
        oauth2PermissionScopes: [
          "EWS.AccessAsUser.All",
          "SMTP.Send",
          "IMAP.AccessAsUser.All",
          "POP.AccessAsUser.All",
        ].map(scope),
        appRoles: ["full_access_as_app", "SMTP.SendAsApp", "IMAP.AccessAsApp", "POP.AccessAsApp"].map(role),
      },
      graphServicePrincipal(scope, role),
    ],
    grants: [],
    assignments: [],
  };
}

/** Microsoft Graph's own service principal, with the mail permissions (and the setup's) under fresh ids. */
function graphServicePrincipal(
  scope: (value: string) => Scope,
  role: (value: string) => AppRole,
): GraphServicePrincipal {
  return {
    id: randomUUID(),
    appId: GRAPH_APP_ID,
    displayName: "Microsoft Graph",
    oauth2PermissionScopes: [
      "User.Read",
      "Mail.Read",
      "Mail.ReadWrite",
      "Mail.Send",
      "Mail.ReadWrite.Shared",
      "Mail.Send.Shared",
      "Application.ReadWrite.All",
      "DelegatedPermissionGrant.ReadWrite.All",
      "AppRoleAssignment.ReadWrite.All",
    ].map(scope),
    appRoles: ["Mail.Read", "Mail.ReadWrite", "Mail.Send"].map(role),
  };
}

export type GraphFaults = {
  /** Answer the next n requests 429 with this Retry-After (seconds). */
  throttle?: { requests: number; retryAfterSeconds: number };
  /** The tenant's consent policy refuses tenant-wide grants. */
  consentBlocked?: boolean;
};

export class GraphEmulator {
  readonly faults = new Map<string, GraphFaults>();
  readonly calls: { method: string; path: string; status: number }[] = [];
  /** How long a new app takes to reach the token endpoint (Entra's replication); 0 in most tests. */
  propagationMs = 0;
  /** Graph's mail endpoints, once the rig has a mail store for them. */
  mail?: GraphMail;

  constructor(
    private readonly tenants: () => EmuTenant[],
    private readonly directoryOf: (tenant: EmuTenant) => GraphDirectory,
    private readonly publicKey: () => CryptoKey,
  ) {}

  async handle(req: Req, res: Res, url: URL): Promise<void> {
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ method: req.method ?? "", path: url.pathname, status });
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      answer(
        status,
        { error: { code, message, innerError: { date: new Date().toISOString(), "request-id": randomUUID() } } },
        headers,
      );

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer) return error(401, "InvalidAuthenticationToken", "Access token is empty.");
    let claims: JWTPayload & { tid?: string; scp?: string; upn?: string };
    // Each cloud's Graph accepts tokens for itself only: the tenant says which cloud it is in.
    const tid = (() => {
      try {
        return decodeJwt(bearer).tid;
      } catch {
        return undefined;
      }
    })();
    const tenant = this.tenants().find((t) => t.id === tid);
    if (!tenant) return error(401, "InvalidAuthenticationToken", "Access token validation failure.");
    try {
      ({ payload: claims } = await jwtVerify(bearer, this.publicKey(), {
        audience: [tenant.graphResource ?? GRAPH_RESOURCE, "00000003-0000-0000-c000-000000000000"],
      }));
    } catch {
      return error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
    }
    const faults = this.faults.get(tenant.id) ?? {};
    if (faults.throttle && faults.throttle.requests > 0) {
      faults.throttle.requests--;
      return error(429, "TooManyRequests", "Too many requests.", {
        "retry-after": String(faults.throttle.retryAfterSeconds),
      });
    }
    const user = tenant.users.find((u) => u.upn.toLowerCase() === String(claims.upn ?? "").toLowerCase());
    const scopes = String(claims.scp ?? "").split(" ");
    const directory = this.directoryOf(tenant);
    const body = req.method === "POST" || req.method === "PATCH" ? JSON.parse((await readBody(req)) || "{}") : {};
    const path = url.pathname.replace(/^\/v1\.0\//, "");
    const needs = (scope: string) => scopes.includes(scope) || scopes.includes(scope.replace("ReadWrite", "Read"));
    const denied = () =>
      error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
    const adminOf = (u: EmuUser | undefined) => (u?.roles ?? []).some((r) => APP_ADMIN_ROLES.includes(r));
    // Entra's default: every member may register apps ("Users can register applications: Yes").
    const mayRegister = (u: EmuUser | undefined) =>
      adminOf(u) || (u !== undefined && !u.guest && tenant.usersCanRegisterApps !== false);
    const ownerOf = (u: EmuUser | undefined, app: GraphApplication | undefined) =>
      u !== undefined && app?.ownerUpns.includes(u.upn) === true;

    // GET /me/transitiveMemberOf/microsoft.graph.directoryRole: the signed-in user's directory roles.
    if (path.startsWith("me/transitiveMemberOf/microsoft.graph.directoryRole") && req.method === "GET") {
      if (!user) return error(404, "Request_ResourceNotFound", "Resource 'me' does not exist.");
      return answer(200, {
        value: (user.roles ?? []).map((role) => ({
          "@odata.type": "#microsoft.graph.directoryRole",
          id: randomUUID(),
          displayName: role,
          roleTemplateId: ROLE_TEMPLATE_IDS[role] ?? randomUUID(),
        })),
      });
    }

    // GET /applications?$filter=appId eq '…' | displayName eq '…'
    if (path === "applications" && req.method === "GET") {
      if (!needs("Application.ReadWrite.All")) return denied();
      return answer(200, { value: filterBy(directory.applications, url).map(publicApp) });
    }
    if (path === "applications" && req.method === "POST") {
      if (!needs("Application.ReadWrite.All") || !mayRegister(user)) return denied();
      const app: GraphApplication = {
        id: randomUUID(),
        appId: randomUUID(),
        displayName: String(body.displayName ?? ""),
        signInAudience: body.signInAudience ?? "AzureADMyOrg",
        isFallbackPublicClient: body.isFallbackPublicClient === true,
        requiredResourceAccess: body.requiredResourceAccess ?? [],
        keyCredentials: (body.keyCredentials ?? []).map((k: KeyCredential) => ({
          ...k,
          keyId: k.keyId ?? randomUUID(),
        })),
        ownerUpns: user ? [user.upn] : [],
      };
      if (!app.displayName) return error(400, "Request_BadRequest", "Property displayName is required.");
      directory.applications.push(app);
      this.sync(tenant, directory);
      return answer(201, publicApp(app));
    }
    const ownersOf = /^applications\/([0-9a-f-]{36})\/owners$/.exec(path);
    if (ownersOf && req.method === "GET") {
      const app = directory.applications.find((a) => a.id === ownersOf[1]);
      if (!app) return error(404, "Request_ResourceNotFound", `Resource '${ownersOf[1]}' does not exist.`);
      return answer(200, {
        value: app.ownerUpns.map((upn) => ({ "@odata.type": "#microsoft.graph.user", userPrincipalName: upn })),
      });
    }
    const appMatch = /^applications\/([0-9a-f-]{36})$/.exec(path);
    if (appMatch && req.method === "PATCH") {
      if (!needs("Application.ReadWrite.All")) return denied();
      const app = directory.applications.find((a) => a.id === appMatch[1]);
      if (!app) return error(404, "Request_ResourceNotFound", `Resource '${appMatch[1]}' does not exist.`);
      if (!adminOf(user) && !app.ownerUpns.includes(user?.upn ?? "")) return denied();
      for (const key of [
        "displayName",
        "signInAudience",
        "isFallbackPublicClient",
        "requiredResourceAccess",
        "keyCredentials",
      ] as const) {
        if (key in body) (app as Record<string, unknown>)[key] = body[key];
      }
      this.sync(tenant, directory);
      return answer(204);
    }
    // DELETE /applications/{id}: the app, and with it its service principal and what was granted to it.
    if (appMatch && req.method === "DELETE") {
      if (!needs("Application.ReadWrite.All")) return denied();
      const app = directory.applications.find((a) => a.id === appMatch[1]);
      if (!app) return error(404, "Request_ResourceNotFound", `Resource '${appMatch[1]}' does not exist.`);
      if (!adminOf(user) && !ownerOf(user, app)) return denied();
      const sp = directory.servicePrincipals.find((s) => s.appId === app.appId);
      directory.applications.splice(directory.applications.indexOf(app), 1);
      if (sp) {
        directory.servicePrincipals.splice(directory.servicePrincipals.indexOf(sp), 1);
        removeWhere(directory.grants, (g) => g.clientId === sp.id);
        removeWhere(directory.assignments, (a) => a.principalId === sp.id);
      }
      removeWhere(tenant.apps, (a) => a.clientId === app.appId);
      this.sync(tenant, directory);
      return answer(204);
    }
    if (path === "servicePrincipals" && req.method === "GET") {
      return answer(200, { value: filterBy(directory.servicePrincipals, url) });
    }
    if (path === "servicePrincipals" && req.method === "POST") {
      const app = directory.applications.find((a) => a.appId === body.appId);
      if (!needs("Application.ReadWrite.All") || !(adminOf(user) || ownerOf(user, app))) return denied();
      if (!app)
        return error(
          400,
          "Request_BadRequest",
          `The appId '${body.appId}' of the service principal does not reference a valid application object.`,
        );
      if (directory.servicePrincipals.some((s) => s.appId === app.appId)) {
        return error(409, "Request_MultipleObjectsWithSameKeyValue", "The service principal already exists.");
      }
      const sp: GraphServicePrincipal = {
        id: randomUUID(),
        appId: app.appId,
        displayName: app.displayName,
        oauth2PermissionScopes: [],
        appRoles: [],
      };
      directory.servicePrincipals.push(sp);
      this.sync(tenant, directory);
      return answer(201, sp);
    }
    if (path === "oauth2PermissionGrants" && req.method === "GET") {
      return answer(200, { value: filterBy(directory.grants, url) });
    }
    if (path === "oauth2PermissionGrants" && req.method === "POST") {
      if (!needs("DelegatedPermissionGrant.ReadWrite.All") || !adminOf(user)) return denied();
      if (faults.consentBlocked) {
        return error(
          403,
          "Authorization_RequestDenied",
          "Tenant-wide consent is blocked by the tenant's consent policy.",
        );
      }
      const grant: PermissionGrant = {
        id: randomUUID(),
        clientId: body.clientId,
        consentType: body.consentType,
        resourceId: body.resourceId,
        scope: String(body.scope ?? ""),
        principalId: body.principalId ?? null,
      };
      directory.grants.push(grant);
      this.sync(tenant, directory);
      return answer(201, grant);
    }
    const grantMatch = /^oauth2PermissionGrants\/([0-9a-f-]{36})$/.exec(path);
    if (grantMatch && req.method === "PATCH") {
      if (!needs("DelegatedPermissionGrant.ReadWrite.All") || !adminOf(user)) return denied();
      const grant = directory.grants.find((g) => g.id === grantMatch[1]);
      if (!grant) return error(404, "Request_ResourceNotFound", `Resource '${grantMatch[1]}' does not exist.`);
      grant.scope = String(body.scope ?? grant.scope);
      this.sync(tenant, directory);
      return answer(204);
    }
    const assignedTo = /^servicePrincipals\/([0-9a-f-]{36})\/appRoleAssignedTo$/.exec(path);
    if (assignedTo && req.method === "GET") {
      return answer(200, { value: directory.assignments.filter((a) => a.resourceId === assignedTo[1]) });
    }
    if (assignedTo && req.method === "POST") {
      if (!needs("AppRoleAssignment.ReadWrite.All") || !adminOf(user)) return denied();
      if (faults.consentBlocked) {
        return error(
          403,
          "Authorization_RequestDenied",
          "Tenant-wide consent is blocked by the tenant's consent policy.",
        );
      }
      const assignment: RoleAssignment = {
        id: randomUUID(),
        principalId: body.principalId,
        resourceId: assignedTo[1]!,
        appRoleId: body.appRoleId,
      };
      directory.assignments.push(assignment);
      this.sync(tenant, directory);
      return answer(201, assignment);
    }
    if (this.mail && GraphMail.handles(path)) {
      const caller: GraphCaller = { tenant, claims: claims as GraphCaller["claims"] };
      return this.mail.handle(caller, req.method ?? "GET", path, url, body, answer, error);
    }
    return error(400, "BadRequest", `Resource not found for the segment '${path.split("/")[0]}'.`);
  }

  /** What Graph holds becomes what the token endpoint and the mail servers go by. */
  private sync(tenant: EmuTenant, directory: GraphDirectory): void {
    // Exchange Online's and Microsoft Graph's permissions: their names do not overlap.
    const resources = directory.servicePrincipals.filter(
      (s) => s.appId === EXCHANGE_APP_ID || s.appId === GRAPH_APP_ID,
    );
    const resourceOf = (id: string) => resources.find((r) => r.id === id);
    for (const app of directory.applications) {
      const sp = directory.servicePrincipals.find((s) => s.appId === app.appId);
      const consented = sp
        ? directory.grants
            .filter((g) => g.clientId === sp.id && resourceOf(g.resourceId) && g.consentType === "AllPrincipals")
            .flatMap((g) => g.scope.split(" ").filter(Boolean))
        : [];
      const roles = sp
        ? directory.assignments
            .filter((a) => a.principalId === sp.id && resourceOf(a.resourceId))
            .map((a) => resourceOf(a.resourceId)!.appRoles.find((r) => r.id === a.appRoleId)?.value ?? "")
            .filter(Boolean)
        : [];
      const entry: EmuApp = tenant.apps.find((a) => a.clientId === app.appId) ?? {
        clientId: app.appId,
        publicClient: false,
        consented: [],
        visibleFrom: Date.now() + this.propagationMs,
      };
      if (!tenant.apps.includes(entry)) tenant.apps.push(entry);
      // Without a service principal the app does not exist in the tenant for sign-in (AADSTS700016).
      entry.publicClient = app.isFallbackPublicClient;
      entry.consented = consented;
      entry.appRoles = roles;
      entry.servicePrincipalId = sp?.id;
      entry.certificates = app.keyCredentials.filter((k) => k.type === "AsymmetricX509Cert").map((k) => pemOf(k.key));
      entry.missingServicePrincipal = !sp;
    }
  }
}

/** Removes in place, so every holder of the list sees the removal. */
function removeWhere<T>(list: T[], drop: (item: T) => boolean): void {
  for (let i = list.length - 1; i >= 0; i--) if (drop(list[i]!)) list.splice(i, 1);
}

function publicApp(app: GraphApplication) {
  const { ownerUpns: _owners, ...rest } = app;
  return { ...rest, keyCredentials: app.keyCredentials.map(({ key: _key, ...k }) => k) };
}

/** `$filter=field eq 'value'` (the only filter the setup uses), on any field. */
function filterBy<T extends object>(items: T[], url: URL): T[] {
  const filter = url.searchParams.get("$filter");
  if (!filter) return items;
  const match = /^(\w+) eq '((?:[^']|'')*)'$/.exec(filter.trim());
  if (!match) return [];
  const [, field, raw] = match;
  const value = raw!.replaceAll("''", "'");
  return items.filter((item) => String((item as Record<string, unknown>)[field!] ?? "") === value);
}

function pemOf(base64Der: string): string {
  const lines = base64Der.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function readBody(req: Req): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}
