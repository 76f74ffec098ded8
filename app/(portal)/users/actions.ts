"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { authorizedAction } from "@/lib/action";
import { clientAddressOf } from "@/lib/auth/client-address";
import { tenantIdBySlug } from "@/lib/tenants/queries";
import { changeOwnPassword, createUser, setUserDisabled } from "@/lib/users/queries";
import { changePasswordSchema, createUserSchema, setUserDisabledSchema, USER_SECRET_FIELDS } from "@/lib/users/schema";

export const createUserAction = authorizedAction({
  schema: createUserSchema,
  secretFields: USER_SECRET_FIELDS,
  async run(actor, input) {
    const { tenantSlug, ...rest } = input;
    const tenantId = tenantSlug === undefined ? rest.tenantId : await tenantIdBySlug(getDb(), tenantSlug);
    const user = await createUser(getDb(), actor, { ...rest, tenantId });
    revalidatePath("/", "layout");
    return `Created ${user.email}. Give them their password through a separate channel.`;
  },
});

export const setUserDisabledAction = authorizedAction({
  schema: setUserDisabledSchema,
  async run(actor, input) {
    const user = await setUserDisabled(getDb(), actor, input);
    revalidatePath("/", "layout");
    return `${user.email} is now ${user.disabled ? "disabled" : "enabled"}.`;
  },
});

export const changeOwnPasswordAction = authorizedAction({
  schema: changePasswordSchema,
  secretFields: USER_SECRET_FIELDS,
  duringPasswordChange: true,
  async run(actor, input) {
    await changeOwnPassword(getDb(), actor, input, { client: clientAddressOf(await headers()) });
    redirect("/signin?notice=password-changed");
  },
});
