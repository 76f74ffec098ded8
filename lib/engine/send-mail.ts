import "server-only";
import { decodeClaims } from "./claims";
import { type Diagnosis, diagnose } from "./diagnoses";
import { guardHost } from "./network-guard";
import { type CheckOptions, providerFor } from "./run-checks";
import { type CheckSettings, identitiesOf, tlsModeFor } from "./settings";
import { mailCredentials, type OutgoingMail, type SendTransport } from "./transport";
import { TRANSPORTS } from "./transports";

/**
 * Sends a message from a mailbox the way its test does: the network guard, a token from the
 * mailbox's own sign-in method (the sealed cache first), then its own transport (SMTP with XOAUTH2,
 * or Graph's sendMail). Alert email and the API's send operation use it.
 */
export async function sendMailAs(
  settings: CheckSettings,
  options: CheckOptions,
  mail: Omit<OutgoingMail, "from">,
): Promise<{ ok: true; acceptedAt: number; transport: string } | { ok: false; diagnosis: Diagnosis }> {
  const transport = Object.values(TRANSPORTS).find((t): t is SendTransport => t.role === "send" && t.usedBy(settings));
  const server = transport?.server(settings, options);
  if (!transport || !server || "missing" in server) {
    return { ok: false, diagnosis: diagnose("SETTINGS_INCOMPLETE", "the sending mailbox has no SMTP Server") };
  }
  const service = { name: transport.label, ports: transport.ports };
  const guard = await guardHost(service, server.host, server.port, options.allowlist, options.resolver);
  if (!guard.ok) return guard;
  const provider = providerFor(settings);
  let credentials = mailCredentials(settings);
  if (provider) {
    const token = await provider.acquire({
      settings,
      authorityHost: options.authorityHost,
      cache: options.tokenCache,
      timeoutMs: options.tokenTimeoutMs,
    });
    if (!token.ok) return token;
    const tid = decodeClaims(token.accessToken)?.tid;
    if (options.admitDirectory && !(await options.admitDirectory(tid))) {
      return { ok: false, diagnosis: diagnose("DIRECTORY_NOT_ALLOWED", `tid = ${tid}`) };
    }
    credentials = mailCredentials(settings, { ...token, appOnly: token.expect.kind === "application" });
  } else if (!settings.password) {
    return { ok: false, diagnosis: diagnose("NO_PASSWORD") };
  }
  const endpoint = { ...server, address: guard.address, mode: tlsModeFor(server.port, settings.useTls) };
  const sent = await transport.send(endpoint, credentials, { from: identitiesOf(settings).sendAs, ...mail });
  return sent.ok ? { ok: true, acceptedAt: sent.acceptedAt, transport: transport.label } : sent;
}
