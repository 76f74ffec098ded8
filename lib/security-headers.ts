/**
 * The portal's security headers. Pages get a strict Content-Security-Policy with a fresh nonce per
 * request (Next.js puts it on its own scripts); API answers are data and may load nothing at all.
 * The development server's React needs eval (its stack traces and fast refresh); production never.
 */
export function pagePolicy(nonce: string, development = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export const API_POLICY = "default-src 'none'; frame-ancestors 'none'";

// The portal uses none of these browser features; saying so keeps an injected frame or script from asking.
export const PERMISSIONS_POLICY = [
  "camera=()",
  "microphone=()",
  "geolocation=()",
  "payment=()",
  "usb=()",
  "serial=()",
  "bluetooth=()",
  "clipboard-write=(self)",
].join(", ");

/** HSTS only when users reach the portal over https; sent on plain http it would be meaningless. */
export function strictTransportSecurity(publicUrl: string | undefined): string | null {
  return publicUrl?.startsWith("https://") ? "max-age=63072000; includeSubDomains" : null;
}

/**
 * The security headers of an answer under the given policy: what proxy.ts and next.config.js set on
 * pages, for the routes proxy.ts leaves out (/api/v1, whose route handlers set them themselves).
 */
export function securityHeaders(policy: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-security-policy": policy,
    "permissions-policy": PERMISSIONS_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
  };
  const hsts = strictTransportSecurity(process.env.NEXTAUTH_URL);
  if (hsts) headers["strict-transport-security"] = hsts;
  return headers;
}
