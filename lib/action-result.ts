/** A value shown once after the action (a new API key) and never again. */
export type Reveal = { label: string; value: string };

export type FieldErrors = Record<string, string[] | undefined>;

/** The one result shape of every server action. `values` echoes what was typed, never a secret. */
export type ActionResult =
  | { ok: true; message: string; reveal?: Reveal }
  | { ok: false; error: string; fieldErrors: FieldErrors; values: Record<string, string> };
