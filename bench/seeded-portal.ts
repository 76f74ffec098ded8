import { randomBytes } from "node:crypto";
import type { UserActor } from "@/lib/auth/actor";
import { type Portal, signInOverHttp, startPortal } from "../tests/support/portal";

export type SeededPortal = {
  portal: Portal;
  cookie: string;
  /** Creates a tenant and `count` Microsoft 365 mailboxes in it, straight in the portal's database. */
  seed(slug: string, count: number): Promise<{ lastMailboxId: number }>;
};

/** The production build on a free port, with known secrets so this process can write to its database. */
export async function startSeededPortal(): Promise<SeededPortal> {
  const secrets = {
    AUTH_SECRET: randomBytes(32).toString("base64"),
    SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}`,
  };
  const portal = await startPortal(secrets);
  Object.assign(process.env, secrets, { DATABASE_URL: `file:${portal.dataDir}/navigator-mail.db` });
  const cookie = await signInOverHttp(portal.url, portal.admin.email, portal.admin.password);
  const root: UserActor = {
    kind: "user",
    id: 1,
    email: portal.admin.email,
    name: "Administrator",
    role: "super_admin",
    tenantId: null,
    mustChangePassword: false,
  };
  return {
    portal,
    cookie,
    async seed(slug, count) {
      const { getDb } = await import("@/db/client");
      const { createTenant } = await import("@/lib/tenants/queries");
      const { createMailbox } = await import("@/lib/mailbox/save");
      const { mailboxInput } = await import("../tests/support/mailbox");
      const db = getDb();
      const tenant = await createTenant(db, root, { name: slug, slug });
      let lastMailboxId = 0;
      for (let i = 0; i < count; i++) {
        const input = mailboxInput(tenant.id, {
          name: `Mailbox ${String(i).padStart(3, "0")}`,
          login: `box${i}@contoso.com`,
          password: `pw-${i}-long-enough`,
        });
        lastMailboxId = (await createMailbox(db, root, input)).id;
      }
      return { lastMailboxId };
    },
  };
}
