// One sweep of 1,000 due mailboxes on PostgreSQL, run by one portal instance and then by two on one
// database (each a production build with its own scheduler), against the test rig with Microsoft's
// latency: wall time from the first test's start to the last one's end, and tests per mailbox.
// Run: npm run bench:sweep-instances   (BENCH_MAILBOXES to change the size)
import { randomBytes } from "node:crypto";
import { withRig } from "./rig-process";

const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 1000);
const CONCURRENCY = 16;

await withRig(bench);

async function bench(): Promise<void> {
  const { startPostgres, removePostgres } = await import("../tests/support/postgres");
  // The database comes first: importing the portal's modules fixes which tables they use.
  const cluster = await startPostgres();
  process.env.DATABASE_URL = cluster.url();
  const { startRig } = await import("../tests/support/rig/rig");
  const rig = await startRig();
  rig.entra.delayMs = Number(process.env.BENCH_TOKEN_MS ?? 150);
  rig.smtp.deliveryDelayMs = Number(process.env.BENCH_DELIVERY_MS ?? 1500);
  const secrets = {
    AUTH_SECRET: randomBytes(32).toString("base64"),
    SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}`,
  };
  Object.assign(process.env, secrets, {
    ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
  });
  try {
    const walls: Record<number, number> = {};
    for (const instances of [1, 2]) walls[instances] = await sweep(instances);
    console.log(`two instances against one: ${(walls[2]! / walls[1]!).toFixed(2)} of the wall time`);
  } finally {
    await rig.stop();
    removePostgres(cluster);
  }

  async function sweep(instances: number): Promise<number> {
    const { startPortal } = await import("../tests/support/portal");
    const { openUrl, closeOpened, asActor } = await import("../tests/support/db");
    const { eq, like, sql } = await import("drizzle-orm");
    const { mailboxTests, tenants, users } = await import("@/db/schema");
    const { createTenant } = await import("@/lib/tenants/queries");
    const { createMailbox } = await import("@/lib/mailbox/save");
    const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
    const databaseUrl = await cluster.createDatabase("sweep");
    const env = {
      ...secrets,
      ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
      MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
      MONITOR: "on",
      MONITOR_SCHEDULE: "*/2 * * * * *",
      MONITOR_CONCURRENCY: String(CONCURRENCY),
      // The portal-wide cap is counted in the database: raised so that each instance may run its 16.
      MAX_TESTS: String(CONCURRENCY * 2),
    };
    const first = await startPortal(env, { databaseUrl });
    const portals = [first];
    for (let i = 1; i < instances; i++) portals.push(await startPortal(env, { databaseUrl, admin: first.admin }));
    const db = openUrl(databaseUrl);
    try {
      const root = asActor((await db.select().from(users).where(eq(users.email, first.admin.email)))[0]!);
      // Four mailboxes per tenant, as MAX_TESTS_PER_TENANT allows four at once; monitoring off until measured.
      for (let t = 0; t < MAILBOXES / 4; t++) {
        const tenant = await createTenant(db, root, { name: `sweep-${t}`, slug: `sweep-${t}` });
        await db.update(tenants).set({ monitorLight: "off", monitorFull: "off" }).where(eq(tenants.id, tenant.id));
        for (let i = 0; i < 4; i++) {
          const form = rig.mailboxForm(rig.addUser(), { name: `Box ${i}` });
          await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
        }
      }
      await db.update(tenants).set({ monitorFull: "daily" }).where(like(tenants.slug, "sweep-%"));
      const finished = async () =>
        (
          await db
            .select({
              tests: sql<number>`count(*)`,
              mailboxes: sql<number>`count(DISTINCT ${mailboxTests.mailboxId})`,
              first: sql<number>`min(${mailboxTests.startedAt})`,
              last: sql<number>`max(${mailboxTests.finishedAt})`,
            })
            .from(mailboxTests)
            .where(sql`${mailboxTests.outcome} <> 'running'`)
        )[0]!;
      let done = await finished();
      while (Number(done.mailboxes) < MAILBOXES) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        done = await finished();
      }
      // A few more sweeps: any test started twice would show here.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      done = await finished();
      const wall = Number(done.last) - Number(done.first);
      console.log(
        `${instances} instance${instances > 1 ? "s" : ""}: ${MAILBOXES} mailboxes, ${done.tests} tests ` +
          `(${(Number(done.tests) / MAILBOXES).toFixed(2)} per mailbox) in ${(wall / 1000).toFixed(1)} s`,
      );
      return wall;
    } finally {
      await closeOpened(db);
      await Promise.all(portals.map((portal) => portal.stop()));
    }
  }
}
