import { z } from "zod";
import { MONITOR_FREQUENCIES } from "@/db/schema";
import { CLOUDS } from "@/lib/engine/settings";
import { clientIdError, hasNoControlCharacters, NO_CONTROL_CHARACTERS, tenantIdError } from "@/lib/entra-ids";

const tenantName = z
  .string()
  .trim()
  .min(1, "Enter a name.")
  .max(100, "Use at most 100 characters.")
  .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);

const tenantSlug = z
  .string()
  .trim()
  .toLowerCase()
  .min(2, { error: "Use at least 2 characters.", abort: true })
  .max(40, "Use at most 40 characters.")
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "Use lowercase letters, digits and single hyphens (e.g. acme-corp).");

export const createTenantSchema = z.object({ name: tenantName, slug: tenantSlug });
export type CreateTenantInput = z.infer<typeof createTenantSchema>;

export const renameTenantSchema = z.object({
  tenantId: z.coerce.number().int().positive(),
  name: tenantName,
});
export type RenameTenantInput = z.infer<typeof renameTenantSchema>;

const optionalId = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
  z.string().trim().max(253, "Use at most 253 characters.").optional(),
);

/** The app registration new mailboxes of the tenant start from; both IDs or neither. */
export const tenantDefaultsSchema = z
  .object({
    tenantId: z.coerce.number().int().positive(),
    azureClientId: optionalId,
    azureTenantId: optionalId.transform((v) => v?.toLowerCase()),
    cloud: z.enum(CLOUDS, { error: "Choose a Microsoft cloud." }).default("global"),
  })
  .superRefine((value, ctx) => {
    const add = (path: "azureClientId" | "azureTenantId", message: string) =>
      ctx.addIssue({ code: "custom", path: [path], message });
    if (value.azureClientId && !value.azureTenantId)
      add("azureTenantId", "Enter the TenantID too, or leave both empty.");
    if (value.azureTenantId && !value.azureClientId)
      add("azureClientId", "Enter the ClientID too, or leave both empty.");
    const clientProblem = value.azureClientId ? clientIdError(value.azureClientId) : null;
    if (clientProblem) add("azureClientId", clientProblem);
    const tenantProblem = value.azureTenantId ? tenantIdError(value.azureTenantId) : null;
    if (tenantProblem) add("azureTenantId", tenantProblem);
  });
export type TenantDefaultsInput = z.infer<typeof tenantDefaultsSchema>;

const frequency = z.enum(MONITOR_FREQUENCIES, { error: "Choose off, hourly or daily." });

/** How often the scheduler tests the tenant's mailboxes (each mailbox may say otherwise). */
export const tenantMonitoringSchema = z.object({
  tenantId: z.coerce.number().int().positive(),
  monitorLight: frequency,
  monitorFull: frequency,
});
export type TenantMonitoringInput = z.infer<typeof tenantMonitoringSchema>;
