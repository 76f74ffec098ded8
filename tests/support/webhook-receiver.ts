import { createHmac, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { RigTls } from "./rig/tls";

export type Received = { path: string; headers: Record<string, string | string[] | undefined>; body: string };

/**
 * A real HTTPS webhook receiver on the rig's loopback address, with the rig's certificate: it keeps
 * every request and answers as told (a status, or no answer at all until it is stopped).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: number | "hang" = 200;
  private server?: https.Server;

  constructor(private readonly tls: RigTls) {}

  async start(): Promise<this> {
    this.server = https.createServer(
      { cert: fs.readFileSync(this.tls.certPem), key: fs.readFileSync(this.tls.keyPem) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          this.received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
          if (this.answer === "hang") return;
          res.writeHead(this.answer, { "content-type": "text/plain" }).end("ok");
        });
      },
    );
    await new Promise<void>((resolve) => this.server!.listen(0, this.tls.ip, resolve));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** The allow-list entry that lets the portal post here (a loopback address is private). */
  get allowEntry(): string {
    return `${this.tls.ip}:${this.port}`;
  }

  url(path = "/hook"): string {
    return `https://${this.tls.ip}:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Whether `X-Signature` is the HMAC-SHA256 of the exact body under the channel's secret, as a receiver checks it. */
export function validSignature(request: Received, secret: string): boolean {
  const header = String(request.headers["x-signature"] ?? "");
  const expected = `sha256=${createHmac("sha256", secret).update(request.body).digest("hex")}`;
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}
