// POST /api/v1/mailboxes/{id}/token answered from the sealed token cache: the server's own time
// (Server-Timing) over sequential requests, then throughput under load with autocannon, against the
// production build. Microsoft is the test rig's emulator; the figures include no request to it.
// Run: npm run bench:api                         (SQLite, one instance)
//      BENCH_DATABASE=postgres npm run bench:api  (a throwaway PostgreSQL cluster, one instance)
//      BENCH_DATABASE=postgres BENCH_INSTANCES=2 npm run bench:api  (two instances behind HAProxy, deploy/haproxy.cfg)
//      BENCH_OPERATION=send npm run bench:api      (POST …/messages instead: sequential sends, then 8 clients;
//                                                   BENCH_TRANSPORT=graph sends over Microsoft Graph)
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { withRig } from "./rig-process";
import { median } from "./stats";

const SEQUENTIAL = Number(process.env.BENCH_RUNS ?? 300);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const ON_POSTGRES = process.env.BENCH_DATABASE === "postgres";
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const SEND = process.env.BENCH_OPERATION === "send";
const SENDS = Number(process.env.BENCH_RUNS ?? 100);
// A mailbox sends at most 30 messages a minute: the sends go round enough mailboxes to stay under it.
const SEND_MAILBOXES = Math.ceil((SENDS * 3) / 25);

await withRig(bench);

async function bench(): Promise<void> {
  // The database comes first: importing the portal's modules fixes which tables they use.
  const cluster = ON_POSTGRES ? await (await import("../tests/support/postgres")).startPostgres() : null;
  const databaseUrl = cluster ? await cluster.createDatabase("bench") : undefined;
  if (databaseUrl) process.env.DATABASE_URL = databaseUrl;
  const { startRig } = await import("../tests/support/rig/rig");
  const { startPortal } = await import("../tests/support/portal");
  const rig = await startRig();
  const secrets = {
    AUTH_SECRET: randomBytes(32).toString("base64"),
    SECRETS_KEYS: `bench:${randomBytes(32).toString("base64")}`,
  };
  const { freePort } = await import("../tests/support/ports");
  const env = {
    ...secrets,
    ENTRA_AUTHORITY_HOST: rig.entra.authorityHost,
    ENTRA_GRAPH_HOST: rig.entra.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
  };
  const portal = await startPortal(env, { databaseUrl });
  const others = [];
  for (let i = 1; i < INSTANCES; i++) others.push(await startPortal(env, { databaseUrl, admin: portal.admin }));
  let balancer: import("node:child_process").ChildProcess | null = null;
  let base = portal.url;
  if (INSTANCES > 1) {
    const { startHaproxy } = await import("../tests/support/haproxy");
    const port = await freePort();
    balancer = startHaproxy(
      `127.0.0.1:${port}`,
      [portal, ...others].map((p) => new URL(p.url).host),
    );
    base = `http://127.0.0.1:${port}`;
    // Both instances up in HAProxy's health checks (rise 2, every second).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
  Object.assign(process.env, secrets, { DATABASE_URL: databaseUrl ?? `file:${portal.dataDir}/navigator-mail.db` });
  console.log(
    `database: ${ON_POSTGRES ? "PostgreSQL" : "SQLite"}; instances: ${INSTANCES}${INSTANCES > 1 ? " behind HAProxy" : ""}`,
  );
  try {
    const { getDb } = await import("@/db/client");
    const { createTenant } = await import("@/lib/tenants/queries");
    const { createMailbox } = await import("@/lib/mailbox/save");
    const { saveMailboxSchema } = await import("@/lib/mailbox/schema");
    const { createApiKey } = await import("@/lib/api-keys/keys");
    const db = getDb();
    const root = {
      kind: "user" as const,
      id: 1,
      email: portal.admin.email,
      name: "Administrator",
      role: "super_admin" as const,
      tenantId: null,
      mustChangePassword: false,
    };
    const tenant = await createTenant(db, root, { name: "Bench", slug: "bench" });
    if (SEND) {
      const save = (i: number) =>
        createMailbox(
          db,
          root,
          saveMailboxSchema.parse({
            tenantId: String(tenant.id),
            ...rig.mailboxForm(rig.addUser(), {
              name: `Sender ${i}`,
              transport: process.env.BENCH_TRANSPORT ?? "smtp_imap",
            }),
          }),
        );
      const senders = [];
      for (let i = 0; i < SEND_MAILBOXES; i++) senders.push(await save(i));
      const { key } = await createApiKey(db, root, {
        tenantId: tenant.id,
        name: "Bench",
        scopes: ["mail:send"],
        mailboxIds: [],
      });
      await benchSend(
        base,
        key,
        senders.map((m) => m.id),
        rig.addUser().upn,
        () => rig.entra.tokenRequests(),
      );
      return;
    }
    const user = rig.addUser();
    const form = rig.mailboxForm(user, { name: "Invoices" });
    const mailbox = await createMailbox(db, root, saveMailboxSchema.parse({ tenantId: String(tenant.id), ...form }));
    const { key } = await createApiKey(db, root, {
      tenantId: tenant.id,
      name: "Bench",
      scopes: ["tokens:issue"],
      mailboxIds: [],
    });
    const url = `${base}/api/v1/mailboxes/${mailbox.id}/token`;
    const request = { method: "POST", headers: { authorization: `Bearer ${key}` } } as const;

    const first = await fetch(url, request);
    if (first.status !== 200) throw new Error(`the first token request answered ${first.status}`);
    const entraBefore = rig.entra.tokenRequests();

    const serverMs: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const answer = await fetch(url, request);
      await answer.arrayBuffer();
      const timing = /app;dur=([\d.]+)/.exec(answer.headers.get("server-timing") ?? "")?.[1];
      if (answer.status !== 200 || !timing) throw new Error(`answered ${answer.status}`);
      serverMs.push(Number(timing));
    }
    serverMs.sort((a, b) => a - b);
    console.log(
      `token from the cache, server time: median ${median(serverMs).toFixed(2)} ms, ` +
        `p90 ${serverMs[Math.floor(serverMs.length * 0.9)]!.toFixed(2)} ms over ${SEQUENTIAL} sequential requests`,
    );

    const load = await autocannon({
      url,
      method: "POST",
      headers: request.headers,
      connections: CONNECTIONS,
      duration: LOAD_SECONDS,
    });
    console.log(
      `under load (autocannon, ${CONNECTIONS} connections, ${LOAD_SECONDS} s): ${load.requests.average.toFixed(0)} requests/s ` +
        `(min ${load.requests.min}, max ${load.requests.max} per second), latency median ${load.latency.p50} ms, ` +
        `p99 ${load.latency.p99} ms, non-2xx ${load.non2xx}, errors ${load.errors}`,
    );
    if (load.non2xx > 0) console.log("answers by status:", JSON.stringify(load.statusCodeStats));
    console.log(`requests to Microsoft Entra ID during both: ${rig.entra.tokenRequests() - entraBefore}`);
  } finally {
    balancer?.kill();
    await Promise.all([portal, ...others].map((p) => p.stop()));
    await (await import("@/db/client")).closeDb();
    await rig.stop();
    if (cluster) (await import("../tests/support/postgres")).removePostgres(cluster);
  }
}

/**
 * The send operation: first a send per mailbox (its token is then in the cache), then SENDS sequential
 * sends for the server time, then the same number from 8 clients at once for the rate.
 */
async function benchSend(
  base: string,
  key: string,
  mailboxIds: number[],
  to: string,
  tokenRequests: () => number,
): Promise<void> {
  let n = 0;
  const sendOne = async (): Promise<number> => {
    const mailboxId = mailboxIds[n++ % mailboxIds.length]!;
    const answer = await fetch(`${base}/api/v1/mailboxes/${mailboxId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ to: [to], subject: `Bench ${n}`, text: "A message of the send bench." }),
    });
    const timing = /app;dur=([\d.]+)/.exec(answer.headers.get("server-timing") ?? "")?.[1];
    if (answer.status !== 202 || !timing) throw new Error(`answered ${answer.status}: ${await answer.text()}`);
    await answer.arrayBuffer();
    return Number(timing);
  };
  for (let i = 0; i < mailboxIds.length; i++) await sendOne();
  const entraBefore = tokenRequests();
  const serverMs: number[] = [];
  const sequentialStarted = performance.now();
  for (let i = 0; i < SENDS; i++) serverMs.push(await sendOne());
  const sequentialS = (performance.now() - sequentialStarted) / 1000;
  serverMs.sort((a, b) => a - b);
  console.log(
    `send (${process.env.BENCH_TRANSPORT ?? "smtp_imap"}), server time: median ${median(serverMs).toFixed(1)} ms, ` +
      `p90 ${serverMs[Math.floor(serverMs.length * 0.9)]!.toFixed(1)} ms over ${SENDS} sequential sends ` +
      `(${(SENDS / sequentialS).toFixed(1)} messages/s) across ${mailboxIds.length} mailboxes`,
  );
  const parallelStarted = performance.now();
  let left = SENDS;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0) await sendOne();
    }),
  );
  const parallelS = (performance.now() - parallelStarted) / 1000;
  console.log(`8 clients at once: ${(SENDS / parallelS).toFixed(1)} messages/s`);
  console.log(`requests to Microsoft Entra ID during both: ${tokenRequests() - entraBefore}`);
}
