import { z } from "zod";

const tenantName = z.string().trim().min(1, "Enter a name.").max(100, "Use at most 100 characters.");

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
