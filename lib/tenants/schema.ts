import { z } from "zod";
import { MONITOR_FREQUENCIES } from "@/db/schema";
import { CLOUDS } from "@/lib/engine/settings";
import {
  clientIdError,
  hasNoControlCharacters,
  isDomainName,
  NO_CONTROL_CHARACTERS,
  tenantIdError,
} from "@/lib/entra-ids";

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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The Microsoft organisations of a tenant, as a super-admin types them: one Entra tenant ID or
 * verified domain a line (or separated by commas). Empty: the next successful sign-in fills the list.
 * A non-empty list names at least one tenant ID, which every token is checked against.
 */
export const tenantDirectoriesSchema = z.object({
  tenantId: z.coerce.number().int().positive(),
  directories: z
    .string()
    .max(4000, "Use at most 4,000 characters.")
    .transform((text) => [
      ...new Set(
        text
          .split(/[\s,;]+/)
          .map((v) => v.trim().toLowerCase())
          .filter(Boolean),
      ),
    ])
    .superRefine((values, ctx) => {
      if (values.length > 50) ctx.addIssue({ code: "custom", message: "List at most 50 tenant IDs and domains." });
      const wrong = values.find((v) => !GUID.test(v) && !isDomainName(v));
      if (wrong)
        ctx.addIssue({
          code: "custom",
          message: `"${wrong.slice(0, 80)}" is neither a Directory (tenant) ID (a GUID) nor a domain such as contoso.com.`,
        });
      else if (values.length > 0 && !values.some((v) => GUID.test(v)))
        ctx.addIssue({
          code: "custom",
          message: "Add the organisation's Directory (tenant) ID (a GUID): tokens are checked against it.",
        });
    })
    .transform((values) =>
      values.map((value) => ({ kind: GUID.test(value) ? ("tenant-id" as const) : ("domain" as const), value })),
    ),
});
