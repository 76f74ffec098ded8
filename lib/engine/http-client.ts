import "server-only";
import https from "node:https";
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";

/**
 * MSAL's network module with a timeout on every request (MSAL has none of its own), a count of
 * requests for the report, and the last transport error kept so the check can say what went wrong.
 */
export class TimedHttpClient implements INetworkModule {
  requests = 0;
  lastError: NodeJS.ErrnoException | null = null;

  constructor(private readonly timeoutMs: number) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private send<T>(method: "GET" | "POST", url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    this.requests++;
    return new Promise((resolve, reject) => {
      const request = https.request(url, { method, headers: options?.headers, timeout: this.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => this.fail(error, reject));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : {};
          } catch {
            body = { error: "invalid_response", error_description: text.slice(0, 500) };
          }
          const headers = Object.fromEntries(
            Object.entries(response.headers).map(([k, v]) => [
              k.toLowerCase(),
              Array.isArray(v) ? v.join(", ") : String(v ?? ""),
            ]),
          );
          resolve({ headers, body: body as T, status: response.statusCode ?? 0 });
        });
      });
      request.on("timeout", () =>
        request.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" })),
      );
      request.on("error", (error) => this.fail(error, reject));
      if (options?.body) request.write(options.body);
      request.end();
    });
  }

  private fail(error: Error, reject: (e: Error) => void): void {
    this.lastError = error as NodeJS.ErrnoException;
    reject(error);
  }
}
