// The live check against the test rig (Entra emulator, SMTP peer, Dovecot) compared with a bare script
// doing the same protocol work with the same libraries. Run: npm run bench:check
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { benchTenant, withRig } from "./rig-process";
import { median } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = 2;

await withRig(bench);

async function bench(): Promise<void> {
  const { PublicClientApplication } = await import("@azure/msal-node");
  const nodemailer = (await import("nodemailer")).default;
  const { ImapFlow } = await import("imapflow");
  const { runChecksToEnd } = await import("@/lib/engine/run-checks");
  const { mailboxTokenCacheStore } = await import("@/lib/mailbox/token-cache-store");
  const { startRig } = await import("../tests/support/rig/rig");
  const rig = await startRig();
  try {
    const options = { authorityHost: rig.entra.authorityHost, allowlist: rig.allowlist };
    const checkTimes: number[] = [];
    const bareTimes: number[] = [];
    const arrivals: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const user = rig.addUser();
      let started = performance.now();
      const outcome = await runChecksToEnd(rig.settings(user), options);
      const checkMs = performance.now() - started;
      if (!outcome.ok)
        throw new Error(`check failed: ${JSON.stringify(outcome.steps.find((s) => s.status === "failed"))}`);
      started = performance.now();
      await bareRoundTrip(rig.addUser());
      const bareMs = performance.now() - started;
      if (i < WARMUP) continue;
      checkTimes.push(checkMs);
      bareTimes.push(bareMs);
      arrivals.push(outcome.steps.find((s) => s.name === "imap")!.metrics!.arrivalMs!);
    }

    // A second check of the same mailbox, with the sealed token cache.
    const { db, save } = await benchTenant();
    const user = rig.addUser();
    const s = rig.settings(user);
    const mailbox = save(rig.mailboxForm(user, { name: "Bench" }));
    const withCache = () => ({ ...options, tokenCache: mailboxTokenCacheStore(db, mailbox, s, options.authorityHost) });
    await runChecksToEnd(s, withCache());
    const before = rig.entra.tokenRequests();
    const second = await runChecksToEnd(s, withCache());
    const secondRequests = rig.entra.tokenRequests() - before;
    if (!second.ok) throw new Error("second check failed");

    const ratios = checkTimes.map((t, i) => t / bareTimes[i]!);
    console.log(
      `runs: ${RUNS} (after ${WARMUP} warm-up), each a fresh user: password grant + SMTP send + IMAP receive`,
    );
    console.log(`full check:  median ${median(checkTimes).toFixed(1)} ms`);
    console.log(`bare script: median ${median(bareTimes).toFixed(1)} ms`);
    console.log(`ratio check/bare: median ${median(ratios).toFixed(3)} (goal <= 1.15)`);
    console.log(`SMTP acceptance -> IMAP sees the message: median ${median(arrivals).toFixed(1)} ms (goal <= 300 ms)`);
    console.log(`token-endpoint requests made by a second check of the same mailbox: ${secondRequests} (goal 0)`);
  } finally {
    await rig.stop();
  }

  async function bareRoundTrip(user: { upn: string; password: string }): Promise<void> {
    const s = rig.settings(user);
    const app = new PublicClientApplication({
      auth: {
        clientId: s.azureClientId!,
        authority: `${rig.entra.authorityHost}/${s.azureTenantId}`,
        knownAuthorities: [new URL(rig.entra.authorityHost).host],
      },
    });
    const token = (await app.acquireTokenByUsernamePassword({
      scopes: ["https://outlook.office.com/SMTP.Send", "https://outlook.office.com/IMAP.AccessAsUser.All"],
      username: user.upn,
      password: user.password,
    }))!.accessToken;
    const marker = randomUUID();
    const transport = nodemailer.createTransport({
      host: rig.ip,
      port: 587,
      requireTLS: true,
      auth: { type: "OAuth2", user: user.upn, accessToken: token },
    });
    await transport.sendMail({
      from: user.upn,
      to: user.upn,
      subject: "bare",
      text: "bare",
      headers: { "X-Navigator-Mail-Test": marker },
    });
    transport.close();
    const client = new ImapFlow({
      host: rig.ip,
      port: 993,
      secure: true,
      auth: { user: user.upn, accessToken: token },
      logger: false,
    });
    await client.connect();
    const lock = await client.getMailboxLock("INBOX");
    try {
      for (;;) {
        const found = await client.search({ header: { "X-Navigator-Mail-Test": marker } }, { uid: true });
        if (found && found.length > 0) {
          await client.messageDelete(found, { uid: true });
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      lock.release();
      await client.logout();
    }
  }
}
