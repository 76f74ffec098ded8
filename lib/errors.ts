/** A row that does not exist for this actor: answered as 404, whether it exists elsewhere or not. */
export class NotFoundError extends Error {
  constructor(what = "Not found") {
    super(what);
    this.name = "NotFoundError";
  }
}

/** An expected refusal the user can fix; `field` puts the message next to that form field. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/**
 * An unexpected error as it may be logged: name, code and the first line of the message. A query
 * error's own message carries the SQL and its parameters (sealed secrets, logins), so its cause speaks.
 */
export function describeError(error: unknown): string {
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (!(root instanceof Error)) return `non-error value thrown (${typeof root})`;
  const code = (root as { code?: unknown }).code;
  return `${root.name}${code ? ` ${String(code)}` : ""}: ${root.message.split("\n")[0]!.slice(0, 300)}`;
}
