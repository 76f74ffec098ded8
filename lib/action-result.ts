export type FieldErrors = Record<string, string[] | undefined>;

/** The one result shape of every server action. `values` echoes what was typed, never a secret. */
export type ActionResult =
  | { ok: true; message: string }
  | { ok: false; error: string; fieldErrors: FieldErrors; values: Record<string, string> };
