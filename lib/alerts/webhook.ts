import "server-only";
import { createHmac } from "node:crypto";
import https from "node:https";
import net from "node:net";
import { guardHost, type Resolver } from "@/lib/engine/network-guard";

/** Webhooks go to https on 443; any other port (or a private address) needs a MAIL_ALLOW_PRIVATE entry. */
const WEBHOOK_SERVICE = { name: "Webhook", ports: [443] } as const;
const TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 64 * 1024;

export type WebhookTarget = { allowlist: readonly string[]; resolver?: Resolver; timeoutMs?: number };
export type WebhookAnswer = { ok: true; status: number } | { ok: false; error: string };

const portOf = (url: URL) => Number(url.port || 443);

/** The same guard as mail servers: the address to connect to, or the reason in words. */
async function guardWebhook(
  url: URL,
  target: WebhookTarget,
): Promise<{ ok: true; address: string; family: 4 | 6 } | { ok: false; error: string }> {
  const guard = await guardHost(WEBHOOK_SERVICE, url.hostname, portOf(url), target.allowlist, target.resolver);
  return guard.ok ? guard : { ok: false, error: `${guard.diagnosis.cause} (${guard.diagnosis.detail ?? url.host})` };
}

/** Whether the portal may post to this URL, with the reason when not. */
export async function webhookRefusal(url: URL, target: WebhookTarget): Promise<string | null> {
  const guard = await guardWebhook(url, target);
  return guard.ok ? null : guard.error;
}

/** `sha256=` and the hex HMAC-SHA256 of the exact body bytes, under the channel's secret. */
function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Posts a signed JSON body. The host is checked by the network guard at every delivery and the
 * request goes to the address it checked (a changed DNS answer cannot redirect it); redirects are
 * not followed; the certificate must match the host name; the answer is read up to 64 KiB.
 */
export async function postWebhook(
  url: URL,
  body: string,
  secret: string,
  headers: Record<string, string>,
  target: WebhookTarget,
): Promise<WebhookAnswer> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const guard = await guardWebhook(url, target);
  if (!guard.ok) return guard;
  return new Promise((resolve) => {
    const request = https.request(
      {
        host: guard.address,
        family: guard.family,
        port: portOf(url),
        path: `${url.pathname}${url.search}`,
        method: "POST",
        ...(net.isIP(host) ? {} : { servername: host }),
        minVersion: "TLSv1.2",
        headers: {
          host: url.host,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "NavigatorMail-Alerts/1",
          "x-signature": signatureOf(body, secret),
          ...headers,
        },
        timeout: target.timeoutMs ?? TIMEOUT_MS,
      },
      (response) => {
        let read = 0;
        response.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on("close", () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ ok: true, status });
          else if (status >= 300 && status < 400)
            resolve({ ok: false, error: `HTTP ${status}: redirects are not followed` });
          else resolve({ ok: false, error: `HTTP ${status}` });
        });
        response.resume();
      },
    );
    request.on("timeout", () =>
      request.destroy(new Error(`no answer within ${(target.timeoutMs ?? TIMEOUT_MS) / 1000} s`)),
    );
    request.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: error.code ? `${error.code}: ${error.message}` : error.message }),
    );
    request.end(body);
  });
}
