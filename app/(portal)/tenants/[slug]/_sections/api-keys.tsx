import { ActionForm, CheckboxGroupField, Field, MultiSelectField, SelectField } from "@/app/_components/action-form";
import { API_SCOPES } from "@/db/schema";
import { appOnlyReach, appOnlyWarning, listApiKeys } from "@/lib/api-keys/keys";
import type { TokenPurpose } from "@/lib/engine/settings";
import { formatUtc } from "@/lib/format-time";
import { createApiKeyAction, revokeApiKeyAction } from "../../actions";
import type { TenantSectionProps } from "./props";

const SCOPE_LABELS: Record<(typeof API_SCOPES)[number], string> = {
  "mailboxes:read": "mailboxes:read: read mailbox settings (never secrets)",
  "tokens:issue": "tokens:issue: get access tokens for SMTP and IMAP",
  "tests:run": "tests:run: run end-to-end tests",
  "mail:send": "mail:send: send messages through the mailbox (no token handed out)",
};

const PURPOSE_LABELS: Record<TokenPurpose | "", string> = {
  "": "Every purpose (SMTP, IMAP and Microsoft Graph)",
  smtp: "SMTP only (sending)",
  imap: "IMAP only (receiving)",
  graph: "Microsoft Graph only (Mail.Send, Mail.ReadWrite)",
};

/** The tenant's API keys (never the keys themselves) and the form that creates one. */
export async function ApiKeysSection({ db, actor, tenant, mailboxes }: TenantSectionProps) {
  const keys = await listApiKeys(db, actor, tenant.id);
  const mailboxNames = new Map(mailboxes.map((m) => [m.id, m.name]));
  const appOnly = appOnlyWarning(await appOnlyReach(db, tenant.id, []), false);
  return (
    <section aria-labelledby="api-keys">
      <h2 id="api-keys">API keys</h2>
      <p className="hint">
        A business system uses a key to read mailbox settings, get short-lived access tokens and run tests through{" "}
        <a href="/api/v1/openapi.json">the API</a>. Keys work for this tenant only and only on /api/v1.
      </p>
      {keys.length === 0 ? (
        <p className="empty">No API keys yet.</p>
      ) : (
        <table className="api-keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Permissions</th>
              <th scope="col">Mailboxes</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} data-key={key.publicId}>
                <td>{key.name}</td>
                <td>
                  <code>{key.publicId}_…</code>
                </td>
                <td>
                  {key.scopes.join(", ")}
                  {key.tokenPurpose && ` (tokens: ${PURPOSE_LABELS[key.tokenPurpose]})`}
                </td>
                <td>
                  {key.mailboxIds ? key.mailboxIds.map((id) => mailboxNames.get(id) ?? `#${id}`).join(", ") : "All"}
                </td>
                <td>{key.expiresAt ? formatUtc(key.expiresAt).slice(0, 10) : "Never"}</td>
                <td>
                  {key.lastUsedAt ? `${formatUtc(key.lastUsedAt)} UTC from ${key.lastUsedFrom || "unknown"}` : "Never"}
                </td>
                <td>
                  {key.state === "active" ? (
                    <ActionForm action={revokeApiKeyAction} submitLabel="Revoke" pendingLabel="Revoking…" inline>
                      <input type="hidden" name="tenantId" value={tenant.id} />
                      <input type="hidden" name="keyId" value={key.id} />
                    </ActionForm>
                  ) : (
                    <span className="badge badge-off">{key.state}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Create an API key</h3>
      <ActionForm action={createApiKeyAction} submitLabel="Create API key" pendingLabel="Creating…">
        <input type="hidden" name="tenantId" value={tenant.id} />
        <Field name="name" label="Name" hint="The system that uses it, e.g. ERP production." maxLength={100} />
        <CheckboxGroupField
          name="scopes"
          legend="Permissions"
          options={API_SCOPES.map((scope) => ({ value: scope, label: SCOPE_LABELS[scope] }))}
        />
        <MultiSelectField
          name="mailboxIds"
          label="Only these mailboxes"
          hint="Choose none for every mailbox of the tenant."
          options={mailboxes.map((m) => ({ value: String(m.id), label: m.name }))}
        />
        {appOnly && (
          <p className="status warn" data-app-only-reach>
            App-only mailboxes: {appOnly}
          </p>
        )}
        <SelectField
          name="tokenPurpose"
          label="Tokens for"
          hint="A key for one protocol is refused a token that can do more (Microsoft puts every permission the app was granted into its tokens)."
          options={Object.entries(PURPOSE_LABELS).map(([value, label]) => ({ value, label }))}
          defaultValue=""
        />
        <Field name="expiresAt" label="Expires on" hint="Leave empty for a key that does not expire." type="date" />
      </ActionForm>
    </section>
  );
}
