import { authCsrfToken, requireActor } from "@/lib/auth/session";
import { PortalChrome } from "./portal-chrome";

export default async function PortalLayout({ children }: { children: React.ReactNode }) {
  const actor = await requireActor({ duringPasswordChange: true });
  return (
    <PortalChrome actor={actor} csrfToken={await authCsrfToken()}>
      {children}
    </PortalChrome>
  );
}
