import "server-only";
import { z } from "zod";
import { CLOUDS } from "@/lib/engine/settings";
import { hasNoControlCharacters, NO_CONTROL_CHARACTERS } from "@/lib/entra-ids";

/** What the admin types to start: the organisation (a verified domain or the tenant ID) and the app's name. */
export const entraSetupStartSchema = z.object({
  directory: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|([a-z0-9-]+\.)+[a-z]{2,63})$/,
      "Enter your organisation's domain (contoso.onmicrosoft.com) or its Directory (tenant) ID.",
    )
    .max(253),
  appName: z
    .string()
    .trim()
    .min(1, "Name the app registration.")
    .max(120, "Use at most 120 characters.")
    .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS),
  /**
   * How the mailbox will sign in: as its user (password or Microsoft sign-in; delegated permissions,
   * public client flows), or as the app (application permissions, a new certificate). Unset: as the
   * mailbox signs in now.
   */
  kind: z.enum(["delegated", "app"], { error: "Choose delegated or app-only." }).optional(),
  /** The organisation's Microsoft cloud, for the tenant's default app (a mailbox has its own). */
  cloud: z.enum(CLOUDS, { error: "Choose a Microsoft cloud." }).optional(),
});

/** What the setup is for: a mailbox, or (mailboxId null) the tenant's default app registration. */
export type Ref = { tenantId: number; mailboxId: number | null };
