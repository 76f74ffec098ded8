import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { generatePassword } from "@/lib/auth/password";
import type { Env } from "@/lib/env";
import { UserError } from "@/lib/errors";
import { countUsers, createUser } from "@/lib/users/queries";

const DEFAULT_FIRST_ADMIN_EMAIL = "admin@navigator-mail.local";

export type FirstAdmin = { email: string; password: string; generatedPassword: boolean };

/** Creates the first super-admin when the database has no users; returns its credentials once. */
export async function ensureFirstAdmin(
  db: Db,
  env: Pick<Env, "FIRST_ADMIN_EMAIL" | "FIRST_ADMIN_PASSWORD">,
): Promise<FirstAdmin | null> {
  if ((await countUsers(db)) > 0) return null;
  const email = (env.FIRST_ADMIN_EMAIL ?? DEFAULT_FIRST_ADMIN_EMAIL).toLowerCase();
  const password = env.FIRST_ADMIN_PASSWORD ?? generatePassword();
  const generatedPassword = env.FIRST_ADMIN_PASSWORD === undefined;
  let admin: Awaited<ReturnType<typeof createUser>>;
  try {
    admin = await createUser(db, null, {
      email,
      name: "Administrator",
      role: "super_admin",
      tenantId: undefined,
      password,
    });
  } catch (error) {
    // Several instances started at once on one database: another one created the first admin.
    if (error instanceof UserError && (await countUsers(db)) > 0) return null;
    throw error;
  }
  // A password printed to a terminal or a log is no longer secret: it must be replaced at the first sign-in.
  if (generatedPassword) await db.update(users).set({ mustChangePassword: true }).where(eq(users.id, admin.id));
  return { email, password, generatedPassword };
}
