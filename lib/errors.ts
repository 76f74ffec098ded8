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
