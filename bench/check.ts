// The warm test of a saved mailbox (what the test button runs: limits, history, token cache, checks,
// recording) against the floor of the protocols: a bare script with the same libraries that takes a
// warm token from MSAL's memory, sends over SMTP while IMAP signs in and opens INBOX, then waits for
// the message. The rig runs in a process of its own, so its servers do not wait for the bench's
// client work. Run: npm run bench:check   (BENCH_RUNS, default 12)
// With BENCH_TRANSPORT=graph the mailboxes use Microsoft Graph, and the bare script is fetch and
// msal-node: sendMail, then the inbox asked for the message by its Message-ID and the message deleted
// (BENCH_BARE_INBOX=1 adds the inbox read the test makes first).
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { benchTenant, startRigProcess, withRig } from "./rig-process";
import { median } from "./stats";
import { phasesOf, takeMarks, takeSqliteMs } from "./wire-trace";

const RUNS = Number(process.env.BENCH_RUNS ?? 12);
const WARMUP = 2;
// Five tests a minute per mailbox is the portal's limit: the runs go round enough mailboxes that
// none gets more than its first test and four warm ones.
const MAILBOXES = Math.max(4, Math.ceil((WARMUP + RUNS) / 4));
const GRAPH = process.env.BENCH_TRANSPORT === "graph";
const SCOPES = GRAPH
  ? ["https://graph.microsoft.com/Mail.Send", "https://graph.microsoft.com/Mail.ReadWrite"]
  : ["https://outlook.office.com/SMTP.Send", "https://outlook.office.com/IMAP.AccessAsUser.All"];
/** The step that ends with the message found and deleted. */
const LAST_STEP = GRAPH ? "graph_receive" : "imap";

await withRig(bench);

async function bench(): Promise<void> {
  const { PublicClientApplication } = await import("@azure/msal-node");
  const nodemailer = (await import("nodemailer")).default;
  const { ImapFlow } = await import("imapflow");
  const rig = await startRigProcess(MAILBOXES);
  Object.assign(process.env, {
    ENTRA_AUTHORITY_HOST: rig.authorityHost,
    ENTRA_GRAPH_HOST: rig.authorityHost,
    MAIL_ALLOW_PRIVATE: rig.allowlist.join(","),
    MONITOR: "off",
  });
  const { SYSTEM_ACTORS } = await import("@/lib/auth/actor");
  const { startMailboxTest, testToEnd } = await import("@/lib/service/mailbox-tests");
  const { db, tenant, save } = await benchTenant();
  try {
    const boxes = await Promise.all(
      rig.mailboxes.map(async ({ user, settings, form }, i) => ({
        user,
        mailbox: await save({ ...form, name: `Bench ${i}`, ...(GRAPH ? { transport: "graph" } : {}) }),
        bare: bareClient(user, settings),
      })),
    );

    /** One test as the button runs it; the server time ends when the last event is sent. */
    async function portalTest(box: (typeof boxes)[number]) {
      takeMarks();
      takeSqliteMs();
      const started = performance.now();
      const test = await startMailboxTest(db, SYSTEM_ACTORS.cli, {
        tenantId: tenant.id,
        mailboxId: box.mailbox.id,
        source: "saved",
      });
      if (!test.ok) throw new Error(`refused: ${test.refusal.message}`);
      const startedMs = performance.now() - started;
      const dbBefore = takeSqliteMs();
      const shownAt: Record<string, number> = {};
      let lastStepAt = 0;
      let dbDuring = 0;
      const result = await testToEnd(test, { id: box.mailbox.id, name: "Bench", tenant: "bench" }, (step) => {
        shownAt[`${step.name} step shown at`] = performance.now() - started;
        if (step.name === LAST_STEP) {
          lastStepAt = performance.now();
          dbDuring = takeSqliteMs();
        }
      });
      const serverMs = performance.now() - started;
      // What follows the answer (the alert evaluation) ends before the next run starts.
      await test.settled;
      if (!result.ok)
        throw new Error(`test failed: ${JSON.stringify(result.steps.find((s) => s.status === "failed"))}`);
      const dbAfter = takeSqliteMs();
      const phases = phasesOf(takeMarks(), started, started + serverMs);
      const steps = Object.fromEntries(result.steps.map((s) => [s.name, s.durationMs]));
      const arrival = result.steps.find((s) => s.name === LAST_STEP)?.metrics?.arrivalMs ?? 0;
      return {
        serverMs,
        afterLastStepMs: performance.now() - lastStepAt,
        parts: {
          ...Object.fromEntries(Object.entries(steps).map(([k, v]) => [`step ${k}`, v])),
          "authorize, limits, record the start": startedMs,
          ...Object.fromEntries(Object.entries(shownAt).filter(([k]) => /^(settings|network|token|claims)/.test(k))),
          ...phases,
          "arrival wait": arrival,
          "sqlite before the checks": dbBefore,
          "sqlite during the checks": dbDuring,
          "sqlite after the last step": dbAfter,
        } as Record<string, number>,
      };
    }

    // Every mailbox gets its first (cold) test, which fills its token cache.
    for (const box of boxes) await portalTest(box);
    for (const box of boxes) await box.bare.run();

    const server: number[] = [];
    const bare: number[] = [];
    const tail: number[] = [];
    const parts: Record<string, number[]> = {};
    const bareParts: Record<string, number[]> = {};
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const box = boxes[i % MAILBOXES]!;
      // Alternate which goes first, so neither always meets a freshly woken rig.
      const [p, b] =
        i % 2 === 0 ? [await portalTest(box), await box.bare.run()] : swap(await box.bare.run(), await portalTest(box));
      if (i < WARMUP) continue;
      server.push(p.serverMs);
      tail.push(p.afterLastStepMs);
      bare.push(b.ms);
      collect(parts, p.parts);
      collect(bareParts, b.parts);
    }

    const ratios = server.map((s, i) => s / bare[i]!);
    console.log(
      `runs: ${RUNS} warm tests (after ${WARMUP} warm-up) over ${MAILBOXES} mailboxes, each beside a bare run`,
    );
    console.log(`warm test, server time:   median ${median(server).toFixed(1)} ms`);
    console.log(`bare overlapped floor:    median ${median(bare).toFixed(1)} ms`);
    console.log(`ratio test/floor:         median ${median(ratios).toFixed(3)} (goal <= 1.05)`);
    console.log(`last step shown -> done:  median ${median(tail).toFixed(1)} ms`);
    console.log("breakdown (median ms)            test     bare");
    const names = [...new Set([...Object.keys(parts), ...Object.keys(bareParts)])];
    for (const name of names) {
      const t = parts[name] ? median(parts[name]!).toFixed(1) : "";
      const b = bareParts[name] ? median(bareParts[name]!).toFixed(1) : "";
      console.log(`  ${name.padEnd(30)} ${t.padStart(7)}  ${b.padStart(7)}`);
    }
  } finally {
    db.$client.close();
    await rig.stop();
  }

  function collect(into: Record<string, number[]>, from: Record<string, number>): void {
    for (const [k, v] of Object.entries(from)) into[k] = [...(into[k] ?? []), v];
  }

  function swap<A, B>(b: B, a: A): [A, B] {
    return [a, b];
  }

  /** The floor: the same libraries, nothing else. MSAL keeps the token in memory after the first run. */
  function bareClient(
    user: { upn: string; password: string },
    s: { azureClientId: string | null; azureTenantId: string | null },
  ) {
    const app = new PublicClientApplication({
      auth: {
        clientId: s.azureClientId!,
        authority: `${rig.authorityHost}/${s.azureTenantId}`,
        knownAuthorities: [new URL(rig.authorityHost).host],
      },
    });
    const token = async () => {
      const [account] = await app.getTokenCache().getAllAccounts();
      if (account) return (await app.acquireTokenSilent({ account, scopes: SCOPES })).accessToken;
      return (await app.acquireTokenByUsernamePassword({
        scopes: SCOPES,
        username: user.upn,
        password: user.password,
      }))!.accessToken;
    };
    return {
      run: GRAPH ? graphRun : protocolsRun,
    };

    /** sendMail, then the inbox asked for the message by its Message-ID until it is there, then DELETE. */
    async function graphRun(): Promise<{ ms: number; parts: Record<string, number> }> {
      takeMarks();
      const started = performance.now();
      const accessToken = await token();
      const tokenMs = performance.now() - started;
      const mailbox = `${rig.authorityHost}/v1.0/users/${encodeURIComponent(user.upn)}`;
      const headers = { authorization: `Bearer ${accessToken}`, "content-type": "application/json" };
      const messageId = `<bare.${randomUUID()}@${user.upn.split("@")[1]}>`;
      // BENCH_BARE_INBOX=1: the bare script also reads the inbox beside the send, as the test does to
      // prove Mail.ReadWrite before it waits (the figure that shows what that read costs).
      const inboxRead = process.env.BENCH_BARE_INBOX
        ? fetch(`${mailbox}/mailFolders/inbox?$select=id,totalItemCount`, { headers }).then((a) => a.arrayBuffer())
        : Promise.resolve();
      const sent = await fetch(`${mailbox}/sendMail`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          message: {
            subject: "bare",
            body: { contentType: "Text", content: "bare" },
            toRecipients: [{ emailAddress: { address: user.upn } }],
            internetMessageId: messageId,
          },
          saveToSentItems: false,
        }),
      });
      if (sent.status !== 202) throw new Error(`bare sendMail: ${sent.status}`);
      const acceptedAt = performance.now();
      await inboxRead;
      const filter = encodeURIComponent(`internetMessageId eq '${messageId}'`);
      for (;;) {
        const found = (await (
          await fetch(`${mailbox}/mailFolders/inbox/messages?$filter=${filter}&$select=id&$top=1`, { headers })
        ).json()) as { value: { id: string }[] };
        if (found.value[0]) {
          const arrivedAt = performance.now();
          await fetch(`${mailbox}/messages/${encodeURIComponent(found.value[0].id)}`, { method: "DELETE", headers });
          const ended = performance.now();
          return {
            ms: ended - started,
            parts: {
              "step token": tokenMs,
              ...phasesOf(takeMarks(), started, ended),
              "arrival wait": arrivedAt - acceptedAt,
            },
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }

    async function protocolsRun(): Promise<{ ms: number; parts: Record<string, number> }> {
      takeMarks();
      const started = performance.now();
      const accessToken = await token();
      const tokenMs = performance.now() - started;
      const marker = randomUUID();
      const client = new ImapFlow({
        host: rig.ip,
        port: 993,
        secure: true,
        auth: { user: user.upn, accessToken },
        logger: false,
        disableAutoIdle: true,
      });
      const ready = client.connect().then(() => client.getMailboxLock("INBOX"));
      const transport = nodemailer.createTransport({
        host: rig.ip,
        port: 587,
        requireTLS: true,
        auth: { type: "OAuth2", user: user.upn, accessToken },
      });
      let acceptedAt = 0;
      const sent = transport
        .sendMail({
          from: user.upn,
          to: user.upn,
          subject: "bare",
          text: "bare",
          headers: { "X-Navigator-Mail-Test": marker },
        })
        .then(() => {
          acceptedAt = performance.now();
          transport.close();
        });
      const [lock] = await Promise.all([ready, sent]);
      let newMail = () => {};
      client.on("exists", () => newMail());
      for (;;) {
        const arrival = new Promise<void>((r) => (newMail = r));
        const found = await client.search({ header: { "X-Navigator-Mail-Test": marker } }, { uid: true });
        if (found && found.length > 0) {
          const arrivedAt = performance.now();
          await client.messageDelete(found, { uid: true });
          const ended = performance.now();
          const ms = ended - started;
          lock.release();
          void client.logout().catch(() => {});
          return {
            ms,
            parts: {
              "step token": tokenMs,
              ...phasesOf(takeMarks(), started, ended),
              "arrival wait": arrivedAt - acceptedAt,
            },
          };
        }
        const idle = client.idle();
        await arrival;
        void idle.catch(() => {});
      }
    }
  }
}
