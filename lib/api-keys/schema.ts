import { z } from "zod";
import { API_SCOPES } from "@/db/schema";
import { TOKEN_PURPOSES } from "@/lib/engine/settings";

const id = z.coerce.number().int().positive();

/** The tenant page's "Create API key" form; checkboxes and a multi-select arrive as repeated fields. */
export const createApiKeySchema = z.object({
  tenantId: id,
  name: z
    .string({ error: "Name the key after the system that uses it." })
    .trim()
    .min(1, "Name the key after the system that uses it.")
    .max(100, "Use at most 100 characters."),
  scopes: z
    .array(z.enum(API_SCOPES, { error: "Choose from the listed permissions." }))
    .min(1, "Choose at least one permission.")
    .max(API_SCOPES.length),
  mailboxIds: z.array(id).max(1000, "Choose at most 1000 mailboxes, or none for all.").default([]),
  tokenPurpose: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.enum(TOKEN_PURPOSES, { error: "Choose SMTP, IMAP, Microsoft Graph or every purpose." }).optional(),
  ),
  expiresAt: z.preprocess(
    (v) => (v === "" || v === undefined ? undefined : v),
    z.coerce
      .date({ error: "Enter a date, or leave it empty for a key that does not expire." })
      .refine((d) => d.getTime() > Date.now(), "Choose a date in the future.")
      .optional(),
  ),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeySchema>;

export const revokeApiKeySchema = z.object({ tenantId: id, keyId: id });
