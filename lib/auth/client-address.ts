/**
 * Set by the portal's own server (scripts/serve.mjs) on every request, overwriting whatever the client
 * sent: the socket's address, or with TRUST_PROXY the address the reverse proxy appended.
 */
const CLIENT_HEADER = "x-navigator-client";

type HeaderSource = { get(name: string): string | null } | Record<string, unknown> | undefined;

export function clientAddressOf(headers: HeaderSource): string {
  if (!headers) return "";
  const value =
    typeof headers.get === "function"
      ? (headers as Headers).get(CLIENT_HEADER)
      : (headers as Record<string, unknown>)[CLIENT_HEADER];
  return typeof value === "string" ? value.slice(0, 64) : "";
}
