import type { Metadata } from "next";
import { ActionForm, Field } from "@/app/_components/action-form";
import { requireActor } from "@/lib/auth/session";
import { PASSWORD_MIN } from "@/lib/users/schema";
import { changeOwnPasswordAction } from "../users/actions";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const actor = await requireActor({ duringPasswordChange: true });
  return (
    <>
      <h1>Account</h1>
      {actor.mustChangePassword && (
        <p className="notice" role="status">
          Your password was generated when the portal was installed. Choose your own password to continue.
        </p>
      )}
      <dl className="facts">
        <dt>Name</dt>
        <dd>{actor.name}</dd>
        <dt>Email</dt>
        <dd>{actor.email}</dd>
        <dt>Role</dt>
        <dd>{actor.role === "super_admin" ? "Super-admin" : "Tenant admin"}</dd>
      </dl>
      <section aria-labelledby="change-password">
        <h2 id="change-password">Change password</h2>
        <p className="muted">After the change every session ends, this one included, and you sign in again.</p>
        <ActionForm action={changeOwnPasswordAction} submitLabel="Change password">
          <Field name="currentPassword" label="Current password" type="password" autoComplete="current-password" />
          <Field
            name="newPassword"
            label="New password"
            type="password"
            autoComplete="new-password"
            hint={`At least ${PASSWORD_MIN} characters.`}
          />
          <Field name="confirmPassword" label="Repeat the new password" type="password" autoComplete="new-password" />
        </ActionForm>
      </section>
    </>
  );
}
