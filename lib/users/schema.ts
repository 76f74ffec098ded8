import { z } from "zod";
import { ROLES } from "@/db/schema";

export const PASSWORD_MIN = 12;

const newPassword = z
  .string()
  .min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters.`)
  .max(200, "Use at most 200 characters.");

const optionalId = z.preprocess(
  (v) => (v === "" || v === undefined ? undefined : v),
  z.coerce.number().int().positive().optional(),
);

export const createUserSchema = z
  .object({
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(254, "Use at most 254 characters.")
      .pipe(z.email("Enter an email address such as name@example.com.")),
    name: z.string().trim().min(1, "Enter a name.").max(100, "Use at most 100 characters."),
    role: z.enum(ROLES, { error: "Choose a role." }),
    tenantId: optionalId,
    // With many tenants the form asks for the slug instead of offering a list.
    tenantSlug: z.preprocess(
      (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
      z.string().trim().toLowerCase().max(40, "Use at most 40 characters.").optional(),
    ),
    password: newPassword,
  })
  .superRefine((value, ctx) => {
    const field = value.tenantSlug !== undefined || value.tenantId === undefined ? "tenantSlug" : "tenantId";
    const chosen = value.tenantId !== undefined || value.tenantSlug !== undefined;
    if (value.role === "tenant_admin" && !chosen) {
      ctx.addIssue({ code: "custom", path: ["tenantId"], message: "A tenant admin needs a tenant." });
      ctx.addIssue({ code: "custom", path: ["tenantSlug"], message: "A tenant admin needs a tenant." });
    }
    if (value.role === "super_admin" && chosen) {
      ctx.addIssue({
        code: "custom",
        path: [field],
        message: "A super-admin belongs to no tenant; leave this empty.",
      });
    }
  });
export type CreateUserInput = z.infer<typeof createUserSchema>;

export const setUserDisabledSchema = z.object({
  userId: z.coerce.number().int().positive(),
  disabled: z.enum(["true", "false"]).transform((v) => v === "true"),
});
export type SetUserDisabledInput = z.infer<typeof setUserDisabledSchema>;

export const changePasswordSchema = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password."),
    newPassword,
    confirmPassword: z.string(),
  })
  .refine((v) => v.newPassword === v.confirmPassword, {
    path: ["confirmPassword"],
    message: "The two new passwords differ.",
  })
  .refine((v) => v.newPassword !== v.currentPassword, {
    path: ["newPassword"],
    message: "Choose a password different from the current one.",
  });
export type ChangePasswordInput = z.infer<typeof changePasswordSchema>;

export const USER_SECRET_FIELDS = ["password", "currentPassword", "newPassword", "confirmPassword"] as const;
