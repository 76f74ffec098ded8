import { performance } from "node:perf_hooks";
import { benchTenant, withRig } from "./rig-process";
import { median } from "./stats";

// A mailbox may be tested 5 times a minute: one cold test and four warm ones. The device-code mailbox's
// cold test is its first after the sign-in, whose token is already in the cache.
const WARM_RUNS = Math.min(4, Number(process.env.BENCH_RUNS ?? 4));

await withRig(bench);

async function bench(): Promise<void> {
  const { SYSTEM_ACTORS } = await import("@/lib/auth/actor");
  const { startMailboxTest } = await import("@/lib/service/mailbox-tests");
  const { cancelDeviceSignIn, getDeviceSignIn, startDeviceSignIn } = await import("@/lib/service/device-sign-ins");
  const { startRig } = await import("../tests/support/rig/rig");
  const rig = await startRig();
  process.env.ENTRA_AUTHORITY_HOST = rig.entra.authorityHost;
  process.env.MAIL_ALLOW_PRIVATE = rig.allowlist.join(",");
  rig.entra.deviceCodeInterval = 1;
  const { db, tenant, save, root } = await benchTenant();
  try {
    const user = rig.addUser();
    const password = await save(rig.mailboxForm(user, { name: "Password" }));

    const secret = "bench-app-only-client-secret";
    const mailbox = rig.addUser().upn;
    const { clientId } = rig.addAppOnlyApp({ secrets: [{ value: secret }] }, [mailbox]);
    const appOnly = await save({
      ...rig.mailboxForm({ upn: mailbox, password: "" }, { name: "App-only", type: "smtp", azureClientId: clientId }),
      signInMethod: "app",
      clientSecret: secret,
      clientSecretExpiresAt: "2099-01-01",
    });

    const deviceUser = rig.addUser({ mfa: "required" });
    const device = await save(rig.mailboxForm(deviceUser, { name: "Device", password: "", signInMethod: "device" }));
    const ref = { tenantId: tenant.id, mailboxId: device.id };

    // "Sign in with Microsoft": from the press to the code on the page is one service call.
    const codeMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const pressed = performance.now();
      const started = await startDeviceSignIn(db, root, ref);
      codeMs.push(performance.now() - pressed);
      if (!started.ok || !started.signIn.userCode) throw new Error("no code shown");
      if (i < 6) await cancelDeviceSignIn(db, root, ref, started.signIn.id);
      else {
        rig.entra.approveDeviceCode(started.signIn.userCode, deviceUser.upn);
        while ((await getDeviceSignIn(db, root, ref, started.signIn.id)).status !== "succeeded")
          await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    console.log(
      `device-code sign-in: code shown ${median(codeMs).toFixed(0)} ms after the press (median of ${codeMs.length}; ` +
        `min ${Math.min(...codeMs).toFixed(0)}, max ${Math.max(...codeMs).toFixed(0)})`,
    );

    console.log(
      `token-endpoint requests per test (cold = first test of the mailbox, warm = ${WARM_RUNS} tests after it)`,
    );
    for (const box of [password, appOnly, device]) {
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
    const test = await startMailboxTest(db, SYSTEM_ACTORS.cli, { tenantId: tenant.id, mailboxId, source: "saved" });
    if (!test.ok) throw new Error(test.refusal.message);
    let ok = false;
    for await (const event of test.events) if (event.type === "done") ok = event.ok;
    return { requests: rig.entra.tokenRequests() - before, ms: performance.now() - started, ok };
  }
}
