import { performance } from "node:perf_hooks";
import { benchTenant, withRig } from "./rig-process";
import { median } from "./stats";

// A mailbox may be tested 5 times a minute: one cold test and four warm ones.
const WARM_RUNS = Math.min(4, Number(process.env.BENCH_RUNS ?? 4));

await withRig(bench);

async function bench(): Promise<void> {
  const { SYSTEM_ACTORS } = await import("@/lib/auth/actor");
  const { startMailboxTest } = await import("@/lib/service/mailbox-tests");
  const { startRig } = await import("../tests/support/rig/rig");
  const rig = await startRig();
  process.env.ENTRA_AUTHORITY_HOST = rig.entra.authorityHost;
  process.env.MAIL_ALLOW_PRIVATE = rig.allowlist.join(",");
  const { db, tenant, save } = await benchTenant();
  try {
    const user = rig.addUser();
    const password = save(rig.mailboxForm(user, { name: "Password" }));

    const secret = "bench-app-only-client-secret";
    const mailbox = rig.addUser().upn;
    const { clientId } = rig.addAppOnlyApp({ secrets: [{ value: secret }] }, [mailbox]);
    const appOnly = save({
      ...rig.mailboxForm({ upn: mailbox, password: "" }, { name: "App-only", type: "smtp", azureClientId: clientId }),
      signInMethod: "app",
      clientSecret: secret,
      clientSecretExpiresAt: "2099-01-01",
    });

    console.log(
      `token-endpoint requests per test (cold = first test of the mailbox, warm = ${WARM_RUNS} tests after it)`,
    );
    for (const box of [password, appOnly]) {
      const runs: { requests: number; ms: number; ok: boolean }[] = [];
      for (let i = 0; i < WARM_RUNS + 1; i++) runs.push(await oneTest(box.id));
      const [cold, ...warm] = runs;
      const failed = runs.filter((r) => !r.ok).length;
      console.log(
        `${box.name.padEnd(9)} cold: ${cold!.requests} request(s)   warm: ${warm.map((r) => r.requests).join(", ")} request(s)   ` +
          `median warm test ${median(warm.map((r) => r.ms)).toFixed(0)} ms${failed ? `   (${failed} failed)` : ""}`,
      );
    }
  } finally {
    await rig.stop();
  }

  // One test through the service layer, as the button runs it.
  async function oneTest(mailboxId: number): Promise<{ requests: number; ms: number; ok: boolean }> {
    const before = rig.entra.tokenRequests();
    const started = performance.now();
    const test = startMailboxTest(db, SYSTEM_ACTORS.cli, { tenantId: tenant.id, mailboxId, source: "saved" });
    if (!test.ok) throw new Error(test.refusal.message);
    let ok = false;
    for await (const event of test.events) if (event.type === "done") ok = event.ok;
    return { requests: rig.entra.tokenRequests() - before, ms: performance.now() - started, ok };
  }
}
