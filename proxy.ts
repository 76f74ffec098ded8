import { type NextRequest, NextResponse } from "next/server";
import { API_POLICY, PERMISSIONS_POLICY, pagePolicy, strictTransportSecurity } from "@/lib/security-headers";

// Headers only: authorization happens in every page, action and route, never here.
export function proxy(request: NextRequest) {
  const api = request.nextUrl.pathname.startsWith("/api/");
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const policy = api ? API_POLICY : pagePolicy(nonce, process.env.NODE_ENV === "development");
  const forwarded = new Headers(request.headers);
  // Next.js reads the nonce for its own scripts from the policy on the request.
  if (!api) forwarded.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: forwarded } });
  response.headers.set("content-security-policy", policy);
  response.headers.set("permissions-policy", PERMISSIONS_POLICY);
  // NEXTAUTH_URL was validated by the launcher (lib/env.ts) before the server started.
  const hsts = strictTransportSecurity(process.env.NEXTAUTH_URL);
  if (hsts) response.headers.set("strict-transport-security", hsts);
  return response;
}

// The business-system API (/api/v1) sets the same headers itself (app/api/v1/_lib/http.ts), so a token request,
// which may come hundreds of times a second, does not pass through this function.
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico|api/v1/).*)"] };
