import { appOnly } from "./app-only";
import type { CredentialProvider } from "./credentials";
import { deviceCode } from "./device-code";
import { passwordGrant } from "./password-grant";
import type { SignInMethod } from "./settings";

/** Where each sign-in method gets its token; `basic` gets none and sends the password itself. */
export const SIGN_IN_PROVIDERS: Record<SignInMethod, CredentialProvider | null> = {
  basic: null,
  password: passwordGrant,
  device: deviceCode,
  app: appOnly,
};
