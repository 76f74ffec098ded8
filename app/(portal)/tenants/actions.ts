"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { authorizedAction } from "@/lib/action";
import { createEmailChannel, createWebhookChannel, deleteAlertChannel } from "@/lib/alerts/channels";
import { channelRefSchema, createEmailChannelSchema, createWebhookChannelSchema } from "@/lib/alerts/schema";
import { appOnlyReach, appOnlyWarning, createApiKey, revokeApiKey } from "@/lib/api-keys/keys";
import { createApiKeySchema, revokeApiKeySchema } from "@/lib/api-keys/schema";
import { UserError } from "@/lib/errors";
import { sendTestAlert } from "@/lib/service/alerts/delivery";
import { setDirectories } from "@/lib/tenants/directories";
import { createTenant, renameTenant, saveTenantDefaults, saveTenantMonitoring } from "@/lib/tenants/queries";
import {
  createTenantSchema,
  renameTenantSchema,
  tenantDefaultsSchema,
  tenantDirectoriesSchema,
  tenantMonitoringSchema,
} from "@/lib/tenants/schema";

export const createTenantAction = authorizedAction({
  schema: createTenantSchema,
  async run(actor, input) {
    const tenant = await createTenant(getDb(), actor, input);
    redirect(`/tenants/${tenant.slug}`);
  },
});

export const renameTenantAction = authorizedAction({
  schema: renameTenantSchema,
  async run(actor, input) {
    const tenant = await renameTenant(getDb(), actor, input);
    revalidatePath("/", "layout");
    return `Renamed to ${tenant.name}.`;
  },
});

export const saveTenantDefaultsAction = authorizedAction({
  schema: tenantDefaultsSchema,
  async run(actor, input) {
    const tenant = await saveTenantDefaults(getDb(), actor, input);
    revalidatePath(`/tenants/${tenant.slug}`, "layout");
    return tenant.defaultAzureClientId
      ? "Saved: new mailboxes start with this app registration."
      : "Saved: no default app registration.";
  },
});

export const saveTenantDirectoriesAction = authorizedAction({
  schema: tenantDirectoriesSchema,
  async run(actor, input) {
    const entries = await setDirectories(getDb(), actor, input.tenantId, input.directories);
    revalidatePath("/tenants/[slug]", "layout");
    return entries.length > 0
      ? "Saved: this tenant's mailboxes must be in these organisations."
      : "Saved: the list is empty; the next successful sign-in fills it.";
  },
});

export const createApiKeyAction = authorizedAction({
  schema: createApiKeySchema,
  lists: ["scopes", "mailboxIds"],
  async run(actor, input) {
    const db = getDb();
    const { view, key } = await createApiKey(db, actor, input);
    revalidatePath("/tenants/[slug]", "layout");
    // A key limited to app-only mailboxes is told how far their app's tokens reach.
    const warning = view.mailboxIds
      ? appOnlyWarning(await appOnlyReach(db, view.tenantId, view.mailboxIds), true)
      : null;
    return {
      message: `API key ${view.name} created.${warning ? ` Note: ${warning}` : ""}`,
      reveal: { label: `The key ${view.name}:`, value: key },
    };
  },
});

export const revokeApiKeyAction = authorizedAction({
  schema: revokeApiKeySchema,
  async run(actor, input) {
    const view = await revokeApiKey(getDb(), actor, input.tenantId, input.keyId);
    revalidatePath("/tenants/[slug]", "layout");
    return `API key ${view.name} revoked; requests with it are refused from now on.`;
  },
});

export const saveTenantMonitoringAction = authorizedAction({
  schema: tenantMonitoringSchema,
  async run(actor, input) {
    const tenant = await saveTenantMonitoring(getDb(), actor, input);
    revalidatePath(`/tenants/${tenant.slug}`, "layout");
    return "Saved: mailboxes without their own setting are tested on this schedule.";
  },
});

export const createWebhookChannelAction = authorizedAction({
  schema: createWebhookChannelSchema,
  // The URL of a Teams or Slack webhook is itself a credential: it is not echoed back.
  secretFields: ["url"],
  async run(actor, input) {
    const { view, secret } = await createWebhookChannel(getDb(), actor, input);
    revalidatePath("/tenants/[slug]", "layout");
    return {
      message: `Webhook ${view.name} added. Alerts are signed in the X-Signature header with this secret.`,
      reveal: { label: `Signing secret of ${view.name}:`, value: secret },
    };
  },
});

export const createEmailChannelAction = authorizedAction({
  schema: createEmailChannelSchema,
  async run(actor, input) {
    const view = await createEmailChannel(getDb(), actor, input);
    revalidatePath("/tenants/[slug]", "layout");
    return `Email channel ${view.name} added: alerts go to ${(view.recipients ?? []).join(", ")}.`;
  },
});

export const deleteAlertChannelAction = authorizedAction({
  schema: channelRefSchema,
  async run(actor, input) {
    const view = await deleteAlertChannel(getDb(), actor, input.tenantId, input.channelId);
    revalidatePath("/tenants/[slug]", "layout");
    return `Alert channel ${view.name} deleted.`;
  },
});

export const sendTestAlertAction = authorizedAction({
  schema: channelRefSchema,
  async run(actor, input) {
    const result = await sendTestAlert(getDb(), actor, input.tenantId, input.channelId);
    revalidatePath("/tenants/[slug]", "layout");
    if (!result.ok) throw new UserError(`The test alert was not delivered: ${result.error}`);
    return "Test alert delivered.";
  },
});
