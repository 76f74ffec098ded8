import "server-only";
import { notFound, unstable_rethrow } from "next/navigation";
import { z } from "zod";
import type { ActionResult, Reveal } from "@/lib/action-result";
import type { UserActor } from "@/lib/auth/actor";
import { requireActor } from "@/lib/auth/session";
import { describeError, NotFoundError, UserError } from "@/lib/errors";

export type FormAction = ((previous: ActionResult | null, formData: FormData) => Promise<ActionResult>) & {
  [AUTHORIZED]: true;
};

const AUTHORIZED = Symbol.for("navigator-mail.authorized-action");

type Definition<S extends z.ZodType> = {
  schema: S;
  /** Field names never echoed back into the form. */
  secretFields?: readonly string[];
  run: (actor: UserActor, input: z.infer<S>) => Promise<string | { message: string; reveal: Reveal }>;
  /** Fields that may repeat (checkboxes, a multiple select): parsed as arrays. */
  lists?: readonly string[];
  /** Allowed while the user must still replace a generated password (only the change itself). */
  duringPasswordChange?: boolean;
};

/** Fixes the order for every action: authorize, parse, run; expected failures become data. */
export function authorizedAction<S extends z.ZodType>(definition: Definition<S>): FormAction {
  const action = async (_previous: ActionResult | null, formData: FormData): Promise<ActionResult> => {
    const actor = await requireActor({ duringPasswordChange: definition.duringPasswordChange });
    const raw = formValues(formData);
    const lists = Object.fromEntries(
      (definition.lists ?? []).map((name) => [name, formData.getAll(name).filter((v) => typeof v === "string")]),
    );
    for (const [name, all] of Object.entries(lists)) raw[name] = all.join(",");
    const secrets = definition.secretFields ?? [];
    const values = withoutSecrets(raw, secrets);
    // Secrets are never sent back, so say that they must be typed again.
    const retype = secrets.some((field) => raw[field]) ? " Passwords are not kept: type them again." : "";
    const parsed = definition.schema.safeParse({ ...raw, ...lists });
    if (!parsed.success) {
      return {
        ok: false,
        error: `Please correct the highlighted fields.${retype}`,
        fieldErrors: z.flattenError(parsed.error).fieldErrors,
        values,
      };
    }
    try {
      const done = await definition.run(actor, parsed.data);
      return typeof done === "string" ? { ok: true, message: done } : { ok: true, ...done };
    } catch (error) {
      if (error instanceof NotFoundError) notFound();
      if (error instanceof UserError) {
        return {
          ok: false,
          error: `${error.message}${retype}`,
          fieldErrors: error.field ? { [error.field]: [error.message] } : {},
          values,
        };
      }
      unstable_rethrow(error);
      console.error("action failed:", describeError(error));
      return {
        ok: false,
        error: "Something went wrong on the server; nothing was saved. Try again, or check the server log.",
        fieldErrors: {},
        values,
      };
    }
  };
  return Object.assign(action, { [AUTHORIZED]: true as const });
}

export function isAuthorizedAction(value: unknown): boolean {
  return typeof value === "function" && (value as Partial<FormAction>)[AUTHORIZED] === true;
}

function formValues(formData: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of formData.entries()) {
    if (typeof value === "string" && !key.startsWith("$ACTION")) values[key] = value;
  }
  return values;
}

function withoutSecrets(values: Record<string, string>, secretFields: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => !secretFields.includes(key)));
}
