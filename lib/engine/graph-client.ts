import "server-only";
import https from "node:https";
import net from "node:net";
import { type Endpoint, type TlsInfo, tlsOf } from "./transport";

export type GraphAnswer = { status: number; headers: Record<string, string>; body: GraphBody; tls?: TlsInfo };

/** Graph's JSON: a value list, an object, or its error body `{ error: { code, message } }`. */
type GraphBody = Record<string, unknown> & { error?: { code?: string; message?: string } };

const GRAPH_TIMEOUT_MS = 20_000;

export type GraphSession = {
  call(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<GraphAnswer>;
  /** Closes the session's kept-alive connection. */
  close(): void;
};

/**
 * Microsoft Graph v1.0 calls to the address the network guard approved, with the certificate checked
 * against the Graph host's name (TLS 1.2 at least), over one kept-alive connection: a poll of the inbox
 * costs a request, not a handshake. A transport failure rejects with Node's error, whose code the mail
 * classifier reads (ECONNREFUSED, certificate errors).
 */
export function graphSession(endpoint: Endpoint, accessToken: string): GraphSession {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    call: (method, path, body) => graphCall(agent, endpoint, accessToken, method, path, body),
    close: () => agent.destroy(),
  };
}

function graphCall(
  agent: https.Agent,
  endpoint: Endpoint,
  accessToken: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<GraphAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: endpoint.address,
        port: endpoint.port,
        method,
        path: `/v1.0/${path}`,
        servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
        minVersion: "TLSv1.2",
        timeout: GRAPH_TIMEOUT_MS,
        headers: {
          host: endpoint.port === 443 ? endpoint.host : `${endpoint.host}:${endpoint.port}`,
          authorization: `Bearer ${accessToken}`,
          accept: "application/json",
          ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
        },
        agent,
      },
      (response) => {
        // Read now: once the answer ends, a kept-alive socket goes back to the agent.
        const tls = tlsOf(response.socket);
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: GraphBody = {};
          try {
            parsed = text ? (JSON.parse(text) as GraphBody) : {};
          } catch {
            parsed = { error: { code: "InvalidResponse", message: text.slice(0, 300) } };
          }
          const headers = Object.fromEntries(
            Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")]),
          );
          resolve({ status: response.statusCode ?? 0, headers, body: parsed, ...(tls ? { tls } : {}) });
        });
      },
    );
    request.on("timeout", () =>
      request.destroy(Object.assign(new Error(`no answer within ${GRAPH_TIMEOUT_MS} ms`), { code: "ETIMEOUT" })),
    );
    request.on("error", reject);
    request.end(payload);
  });
}
