import "server-only";
import { type Diagnosis, diagnose } from "./diagnoses";
import { accessFor, type CheckSettings, type MailTransport } from "./settings";

/**
 * The one-click Entra setup through Microsoft Graph: find or register the app, make it single-tenant
 * with public client flows (delegated) or give it the certificate (app-only), ask for Exchange
 * Online's permissions by name, create its service principal and grant admin consent. Every step
 * looks first, so running it again corrects instead of duplicating, and a half-finished setup resumes.
 */

/** The API whose permissions a transport needs, as its service principal is named in every tenant. */
const RESOURCE_NAMES: Record<MailTransport, string> = {
  smtp_imap: "Office 365 Exchange Online",
  graph: "Microsoft Graph",
};

/** The permissions the setup asks for: the transport's, to send and receive (accessFor, the one table). */
function permissionsOf(request: Pick<SetupRequest, "kind" | "transport" | "identities">): string[] {
  const access = accessFor({ type: "smtp_imap", transport: request.transport, cloud: "global", ...request.identities });
  return request.kind === "app" ? access.roles : access.scopes;
}

/**
 * The directory roles (their template IDs, the same in every organisation) that may grant tenant-wide
 * admin consent to the app's Exchange permissions, delegated or application. The setup's user must
 * hold one of them, or nothing is planned and nothing is written.
 */
export const SETUP_ROLES: Record<string, string> = {
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
  "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
  "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
  "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
};

/**
 * Whether the signed-in user holds none of the setup's roles: from the token's `wids` claim, or,
 * when Entra left it out, from Graph's list of the user's directory roles. Undefined when neither
 * says (Graph then judges each write, and a failure after a write offers to delete what was made).
 */
export async function lacksSetupRole(graph: Graph, wids: string[] | undefined): Promise<boolean | undefined> {
  if (wids) return !wids.some((id) => id in SETUP_ROLES);
  try {
    const roles = ((await graph("GET", "me/transitiveMemberOf/microsoft.graph.directoryRole?$select=roleTemplateId"))
      .value ?? []) as { roleTemplateId?: string }[];
    return !roles.some((role) => (role.roleTemplateId ?? "") in SETUP_ROLES);
  } catch {
    return undefined;
  }
}

/**
 * The delegated Graph scopes the setup signs in with, and why: registering and correcting the app
 * (Application.ReadWrite.All), granting tenant-wide consent to delegated permissions
 * (DelegatedPermissionGrant.ReadWrite.All), and, for app-only, assigning application permissions
 * (AppRoleAssignment.ReadWrite.All).
 */
export function setupScopes(graphHost: string, appOnly: boolean): string[] {
  const names = ["Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"];
  if (appOnly) names.push("AppRoleAssignment.ReadWrite.All");
  return names.map((name) => `${graphHost}/${name}`);
}

export type SetupRequest = {
  appName: string;
  /** "delegated": the password or Microsoft sign-in methods; "app": app-only with a certificate. */
  kind: "delegated" | "app";
  /** Whose permissions: Exchange Online's (SMTP and IMAP) or Microsoft Graph's mail permissions. */
  transport: MailTransport;
  /**
   * The mailbox's Login, Mailbox and Send as: a delegated Graph app for a shared Mailbox or another
   * Send as address needs Graph's `.Shared` scopes. None for the tenant's default app registration.
   */
  identities?: Pick<CheckSettings, "login" | "mailboxAddress" | "sendAs">;
  /** Base64 DER of the mailbox's certificate (app-only). */
  certificate?: { der: string; thumbprint: string; notAfter: Date };
  /** The signed-in admin, to tell "yours" from "someone else's" app of the same name. */
  admin: string;
};

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "GraphError";
  }
}

type GraphBody = Record<string, unknown> & { value?: Record<string, unknown>[] };
export type Graph = (method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown) => Promise<GraphBody>;

/**
 * A Graph client for one setup: the token stays in this closure. A 429 is waited out as Retry-After
 * asks (up to `maxWaitMs` in all); a longer wait is reported instead of slept.
 */
export function graphClient(
  graphHost: string,
  accessToken: string,
  options: { maxWaitMs?: number; sleep?: (ms: number) => Promise<void>; timeoutMs?: number } = {},
): Graph {
  const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  let waitBudget = options.maxWaitMs ?? 30_000;
  return async (method, path, body) => {
    for (;;) {
      const answer = await fetch(`${graphHost}/v1.0/${path}`, {
        method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
      });
      const text = await answer.text();
      const parsed = text ? (JSON.parse(text) as GraphBody) : {};
      if (answer.ok) return parsed;
      const error = (parsed.error ?? {}) as { code?: string; message?: string };
      const retryAfter = Number(answer.headers.get("retry-after") ?? Number.NaN);
      if (answer.status === 429 && Number.isFinite(retryAfter) && retryAfter * 1000 <= waitBudget) {
        waitBudget -= retryAfter * 1000;
        await sleep(retryAfter * 1000);
        continue;
      }
      throw new GraphError(
        answer.status,
        error.code ?? "unknown",
        error.message ?? text.slice(0, 200),
        retryAfter || undefined,
      );
    }
  };
}

/** What Graph's answer means for the admin: the role, the policy, the wait. */
export function diagnoseGraphError(error: unknown): Diagnosis {
  if (!(error instanceof GraphError)) return diagnose("SETUP_GRAPH_ERROR", String((error as Error)?.message ?? error));
  const detail = `${error.status} ${error.code}: ${error.message.replace(/^\d+ [\w.]+: /, "")}`;
  if (error.status === 429) {
    return diagnose(
      "SETUP_THROTTLED",
      `${detail}${error.retryAfterSeconds ? ` (Retry-After ${error.retryAfterSeconds} s)` : ""}`,
    );
  }
  if (error.code === "SetupNameTaken") return diagnose("SETUP_NAME_TAKEN", detail);
  if (error.code === "Authorization_RequestDenied" && /policy/i.test(error.message))
    return diagnose("SETUP_CONSENT_BLOCKED", detail);
  if (error.status === 403 || error.code === "Authorization_RequestDenied")
    return diagnose("SETUP_ROLE_MISSING", detail);
  return diagnose("SETUP_GRAPH_ERROR", detail);
}

type Permission = { id: string; value: string };

export type PlanStep = {
  key: "application" | "public-client" | "permissions" | "certificate" | "service-principal" | "consent";
  label: string;
  done: boolean;
};

export type SetupPlan = {
  appName: string;
  kind: SetupRequest["kind"];
  /** The app found by name (ours to correct, its other permissions kept), or null to register one. */
  application: { id: string; appId: string; requiredResourceAccess: App["requiredResourceAccess"] } | null;
  servicePrincipalId: string | null;
  /** The API the permissions are of (Exchange Online or Microsoft Graph): its service principal in the tenant. */
  resource: { servicePrincipalId: string; appId: string; permissions: Permission[] };
  steps: PlanStep[];
};

type App = {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: string;
  isFallbackPublicClient: boolean;
  requiredResourceAccess: { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
  keyCredentials: { customKeyIdentifier?: string; displayName?: string; type: string }[];
};

/** A string in an OData $filter: single-quoted with ' doubled, then URL-encoded (an app name may hold & or #). */
const quote = (value: string) => encodeURIComponent(`'${value.replaceAll("'", "''")}'`);

/** Looks at the tenant and says what the setup will create or change; nothing is written. */
export async function planSetup(graph: Graph, request: SetupRequest): Promise<SetupPlan> {
  const resourceName = RESOURCE_NAMES[request.transport];
  const resourceSp = (await graph("GET", `servicePrincipals?$filter=displayName eq ${quote(resourceName)}`))
    .value?.[0] as
    | { id: string; appId: string; oauth2PermissionScopes: Permission[]; appRoles: Permission[] }
    | undefined;
  if (!resourceSp)
    throw new GraphError(404, "Request_ResourceNotFound", `No service principal named ${resourceName} in this tenant.`);
  const pool = request.kind === "app" ? resourceSp.appRoles : resourceSp.oauth2PermissionScopes;
  const permissions = permissionsOf(request).map((value) => {
    const found = pool.find((p) => p.value === value);
    if (!found)
      throw new GraphError(404, "Request_ResourceNotFound", `${resourceName} publishes no permission ${value}.`);
    return { id: found.id, value };
  });

  const apps = ((await graph("GET", `applications?$filter=displayName eq ${quote(request.appName)}`)).value ??
    []) as App[];
  let app: App | null = null;
  for (const candidate of apps) {
    const owners = ((await graph("GET", `applications/${candidate.id}/owners`)).value ?? []) as {
      userPrincipalName?: string;
    }[];
    if (owners.some((o) => o.userPrincipalName?.toLowerCase() === request.admin.toLowerCase())) app = candidate;
  }
  if (!app && apps.length > 0)
    throw new GraphError(409, "SetupNameTaken", `An app named "${request.appName}" belongs to someone else.`);

  const sp = app
    ? (((await graph("GET", `servicePrincipals?$filter=appId eq ${quote(app.appId)}`)).value?.[0] as
        | { id: string }
        | undefined) ?? null)
    : null;
  const access = app?.requiredResourceAccess.find((r) => r.resourceAppId === resourceSp.appId)?.resourceAccess ?? [];
  const type = request.kind === "app" ? "Role" : "Scope";
  const toAdd = permissions.filter((p) => !access.some((a) => a.id === p.id && a.type === type));
  const otherAccess = (app?.requiredResourceAccess ?? []).reduce((sum, r) => sum + r.resourceAccess.length, 0);
  const granted = sp ? await grantedOf(graph, request.kind, sp.id, resourceSp.id) : [];
  const toGrant = permissions.filter((p) => !granted.includes(request.kind === "app" ? p.id : p.value));
  const kindWord = request.kind === "app" ? "application" : "delegated";
  const names = (list: Permission[]) => list.map((p) => p.value).join(", ");
  const steps: PlanStep[] = [
    {
      key: "application",
      label: app
        ? `Use the app registration "${request.appName}" (${app.appId}), single tenant`
        : `Register the app "${request.appName}", single tenant (this organisation only)`,
      done: app !== null && app.signInAudience === "AzureADMyOrg",
    },
    ...(request.kind === "delegated"
      ? [
          {
            key: "public-client" as const,
            label: "Allow public client flows: Yes",
            done: app?.isFallbackPublicClient === true,
          },
        ]
      : []),
    {
      key: "permissions",
      // An app that has permissions already keeps every one of them: the plan says what it adds.
      label:
        app && toAdd.length > 0 && otherAccess > 0
          ? `Add to the app's API permissions of ${resourceName} (${kindWord}): ${names(toAdd)}; the ${otherAccess === 1 ? "permission" : `${otherAccess} permissions`} it has already stay`
          : `API permissions of ${resourceName} (${kindWord}): ${names(permissions)}`,
      done: toAdd.length === 0,
    },
    ...(request.kind === "app" && request.certificate
      ? [certificateStep(app?.keyCredentials ?? [], request.certificate.thumbprint)]
      : []),
    {
      key: "service-principal",
      label: "Create the app's service principal (Enterprise application)",
      done: sp !== null,
    },
    {
      key: "consent",
      label:
        granted.length > 0 && toGrant.length > 0
          ? `Grant admin consent for ${names(toGrant)}, added to the consent the app has already; nothing granted is removed`
          : `Grant admin consent for ${permissions.map((p) => p.value).join(" and ")}`,
      done: sp !== null && toGrant.length === 0,
    },
  ];
  return {
    appName: request.appName,
    kind: request.kind,
    application: app ? { id: app.id, appId: app.appId, requiredResourceAccess: app.requiredResourceAccess } : null,
    servicePrincipalId: sp?.id ?? null,
    resource: { servicePrincipalId: resourceSp.id, appId: resourceSp.appId, permissions },
    steps,
  };
}

/**
 * What the app holds of the API already: for app-only, the app roles assigned to it (their IDs); for
 * delegated, the scopes of its tenant-wide grant (their names).
 */
async function grantedOf(
  graph: Graph,
  kind: SetupRequest["kind"],
  clientSpId: string,
  resourceSpId: string,
): Promise<string[]> {
  if (kind === "app") {
    const assigned = ((await graph("GET", `servicePrincipals/${resourceSpId}/appRoleAssignedTo`)).value ?? []) as {
      principalId: string;
      appRoleId: string;
    }[];
    return assigned.filter((a) => a.principalId === clientSpId).map((a) => a.appRoleId);
  }
  const grants = ((await graph("GET", `oauth2PermissionGrants?$filter=clientId eq ${quote(clientSpId)}`)).value ??
    []) as {
    consentType: string;
    resourceId: string;
    scope: string;
  }[];
  return grants
    .filter((g) => g.consentType === "AllPrincipals" && g.resourceId === resourceSpId)
    .flatMap((g) => g.scope.split(" ").filter(Boolean));
}

type Access = App["requiredResourceAccess"][number];

/**
 * The app's API permissions with ours added: Graph sets `requiredResourceAccess` as a whole, so every
 * other API's permissions and every other Exchange permission are sent back as they were.
 */
function withAccess(current: Access[], ours: Access): Access[] {
  const existing = current.find((r) => r.resourceAppId === ours.resourceAppId);
  if (!existing) return [...current, ours];
  const added = ours.resourceAccess.filter(
    (a) => !existing.resourceAccess.some((b) => b.id === a.id && b.type === a.type),
  );
  return current.map((r) => (r === existing ? { ...r, resourceAccess: [...r.resourceAccess, ...added] } : r));
}

const certificateName = (thumbprint: string) => `Navigator Mail ${thumbprint.slice(0, 16)}`;

/**
 * Graph sets an app's certificates as a whole list and never returns their keys, so giving an app
 * that has others the new one replaces them: the plan says so before the admin confirms.
 */
function certificateStep(keys: App["keyCredentials"], thumbprint: string): PlanStep {
  const done = keys.some((k) => k.displayName === certificateName(thumbprint));
  const others = keys.filter((k) => k.displayName !== certificateName(thumbprint)).length;
  const label =
    others > 0 && !done
      ? `Replace the app's ${others === 1 ? "certificate" : `${others} certificates`} with the mailbox's new certificate (thumbprint ${thumbprint}); anything still signing in with ${others === 1 ? "it" : "them"} stops working`
      : `Add the mailbox's certificate (thumbprint ${thumbprint}) to the app`;
  return { key: "certificate", label, done };
}

export type SetupObjects = {
  applicationId: string;
  /** The Azure Application ClientID the mailbox needs. */
  appId: string;
  servicePrincipalId: string;
  grantId?: string;
  assignmentIds?: string[];
};

/**
 * Deletes an app registration the setup made (Entra deletes its service principal, consent and app
 * role assignments with it). An app already gone counts as deleted.
 */
export async function deleteApplication(graph: Graph, applicationId: string): Promise<"deleted" | "gone"> {
  try {
    await graph("DELETE", `applications/${applicationId}`);
    return "deleted";
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return "gone";
    throw error;
  }
}

/**
 * Does what the plan says is not done yet, in order, each step looking again first: a second run (or
 * one after a failure halfway) changes only what is still missing. `onStep` sees each step as it is
 * done, and `created` for the app registration it made (the setup offers to delete it if a later
 * step fails). Nothing already in the app is dropped: permissions and consent are added to.
 */
export async function applySetup(
  graph: Graph,
  request: SetupRequest,
  onStep: (step: PlanStep, objectId: string, created?: boolean) => Promise<void> | void = () => {},
): Promise<SetupObjects> {
  const plan = await planSetup(graph, request);
  const step = (key: PlanStep["key"]) => plan.steps.find((s) => s.key === key);
  const { resource } = plan;
  const type = request.kind === "app" ? "Role" : "Scope";
  const requiredResourceAccess = [
    { resourceAppId: resource.appId, resourceAccess: resource.permissions.map((p) => ({ id: p.id, type })) },
  ];
  const keyCredentials = request.certificate
    ? [
        {
          type: "AsymmetricX509Cert",
          usage: "Verify",
          key: request.certificate.der,
          displayName: certificateName(request.certificate.thumbprint),
          endDateTime: request.certificate.notAfter.toISOString(),
        },
      ]
    : undefined;

  let app = plan.application;
  if (!app) {
    const created = (await graph("POST", "applications", {
      displayName: request.appName,
      signInAudience: "AzureADMyOrg",
      isFallbackPublicClient: request.kind === "delegated",
      requiredResourceAccess,
      ...(keyCredentials ? { keyCredentials } : {}),
    })) as { id: string; appId: string };
    app = { id: created.id, appId: created.appId, requiredResourceAccess };
    for (const key of ["application", "public-client", "permissions", "certificate"] as const) {
      const s = step(key);
      if (s) await onStep(s, app.id, key === "application");
    }
  } else {
    const fix: Record<string, unknown> = {};
    if (!step("application")?.done) fix.signInAudience = "AzureADMyOrg";
    if (step("public-client") && !step("public-client")?.done) fix.isFallbackPublicClient = true;
    if (!step("permissions")?.done)
      fix.requiredResourceAccess = withAccess(app.requiredResourceAccess, requiredResourceAccess[0]!);
    if (step("certificate") && !step("certificate")?.done) fix.keyCredentials = keyCredentials;
    if (Object.keys(fix).length > 0) {
      await graph("PATCH", `applications/${app.id}`, fix);
      for (const key of ["application", "public-client", "permissions", "certificate"] as const) {
        const s = step(key);
        if (s && !s.done) await onStep(s, app.id);
      }
    }
  }

  let spId = plan.servicePrincipalId;
  if (!spId) {
    spId = ((await graph("POST", "servicePrincipals", { appId: app.appId })) as { id: string }).id;
    await onStep(step("service-principal")!, spId);
  }

  const objects: SetupObjects = { applicationId: app.id, appId: app.appId, servicePrincipalId: spId };
  if (!step("consent")?.done || !plan.servicePrincipalId) {
    if (request.kind === "app") {
      const assigned = ((await graph("GET", `servicePrincipals/${resource.servicePrincipalId}/appRoleAssignedTo`))
        .value ?? []) as {
        principalId: string;
        appRoleId: string;
      }[];
      objects.assignmentIds = [];
      for (const permission of resource.permissions) {
        if (assigned.some((a) => a.principalId === spId && a.appRoleId === permission.id)) continue;
        const assignment = (await graph("POST", `servicePrincipals/${resource.servicePrincipalId}/appRoleAssignedTo`, {
          principalId: spId,
          resourceId: resource.servicePrincipalId,
          appRoleId: permission.id,
        })) as { id: string };
        objects.assignmentIds.push(assignment.id);
      }
      await onStep(step("consent")!, objects.assignmentIds.join(", ") || resource.servicePrincipalId);
    } else {
      const scope = resource.permissions.map((p) => p.value).join(" ");
      const grants = ((await graph("GET", `oauth2PermissionGrants?$filter=clientId eq ${quote(spId)}`)).value ??
        []) as {
        id: string;
        consentType: string;
        resourceId: string;
        scope: string;
      }[];
      const existing = grants.find(
        (g) => g.consentType === "AllPrincipals" && g.resourceId === resource.servicePrincipalId,
      );
      if (existing) {
        // Graph sets a grant's scope as a whole: the scopes granted already are kept, ours added.
        const kept = existing.scope.split(" ").filter(Boolean);
        const merged = [...kept, ...resource.permissions.map((p) => p.value).filter((v) => !kept.includes(v))];
        await graph("PATCH", `oauth2PermissionGrants/${existing.id}`, { scope: merged.join(" ") });
        objects.grantId = existing.id;
      } else {
        const grant = (await graph("POST", "oauth2PermissionGrants", {
          clientId: spId,
          consentType: "AllPrincipals",
          resourceId: resource.servicePrincipalId,
          scope,
        })) as { id: string };
        objects.grantId = grant.id;
      }
      await onStep(step("consent")!, objects.grantId);
    }
  }
  return objects;
}
