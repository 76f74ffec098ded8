import { appOnly } from "./app-only";
import type { CredentialProvider } from "./credentials";
import { deviceCode } from "./device-code";
import { passwordGrant } from "./password-grant";
import type { CheckSettings } from "./settings";

/**
 * How a mailbox signs in to its mail servers. `basic` sends the password itself (providers that still
 * allow it); every other method gets an OAuth token from its provider and signs in with XOAUTH2.
 */
export const SIGN_IN_METHODS = {
  basic: { label: "Password login (no OAuth)", provider: null },
  password: { label: "Password (OAuth password grant)", provider: passwordGrant },
  device: { label: "Microsoft sign-in (device code)", provider: deviceCode },
  app: { label: "App-only (client secret or certificate)", provider: appOnly },
} satisfies Record<string, { label: string; provider: CredentialProvider | null }>;

export type SignInMethod = keyof typeof SIGN_IN_METHODS;

/** With ClientID and TenantID empty the mailbox uses plain password login, as the setup guide says. */
export function signInMethodOf(settings: Pick<CheckSettings, "azureClientId" | "signInMethod">): SignInMethod {
  return settings.signInMethod ?? (settings.azureClientId ? "password" : "basic");
}
