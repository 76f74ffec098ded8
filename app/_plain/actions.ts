import "server-only";
import {
  deleteMailboxAction,
  generateCertificateAction,
  saveMailboxAction,
} from "@/app/(portal)/tenants/[slug]/mailboxes/actions";

/**
 * The server actions a plain page's islands may post, by name (POST /api/form-actions/<name>). Each is
 * the App Router's own action, declared with authorizedAction: it signs in the caller from the
 * session cookie, validates the form and checks the tenant itself.
 */
export const FORM_ACTIONS = {
  saveMailbox: saveMailboxAction,
  deleteMailbox: deleteMailboxAction,
  generateCertificate: generateCertificateAction,
} as const;

export const FORM_ACTION_NAMES: ReadonlyMap<unknown, string> = new Map(
  Object.entries(FORM_ACTIONS).map(([name, action]) => [action, name]),
);
