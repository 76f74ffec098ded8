import "server-only";
import type { Mailbox } from "@/db/schema";
import type { UserActor } from "@/lib/auth/actor";
import { seal } from "@/lib/crypto/seal";
import { checkCertificate } from "./app-credential";
import { appSecretContext, sealMailboxPassword } from "./password";
import type { MailboxSettings } from "./schema";

type Owner = Pick<Mailbox, "tenantId" | "id">;
type SecretColumns = Partial<
  Pick<
    Mailbox,
    | "passwordSealed"
    | "passwordChangedAt"
    | "passwordChangedBy"
    | "clientSecretSealed"
    | "certificatePem"
    | "privateKeySealed"
    | "appCredentialExpiresAt"
    | "appCredentialChangedAt"
    | "appCredentialChangedBy"
  >
>;

const NO_APP_CREDENTIAL: SecretColumns = {
  clientSecretSealed: null,
  certificatePem: null,
  privateKeySealed: null,
  appCredentialExpiresAt: null,
};

/**
 * The secret columns a save writes. Each method keeps only its own secret: choosing app-only discards
 * the password, choosing the password discards the client secret and the certificate's key, and the
 * Microsoft sign-in discards both (its tokens live in the token cache).
 */
export function credentialColumns(
  owner: Owner,
  input: Pick<
    MailboxSettings,
    | "signInMethod"
    | "password"
    | "clearPassword"
    | "clientSecret"
    | "clientSecretExpiresAt"
    | "certificatePem"
    | "privateKeyPem"
  >,
  actor: UserActor,
  current?: Mailbox,
): SecretColumns {
  const stamp = { at: new Date(), by: actor.email };
  const password = { passwordChangedAt: stamp.at, passwordChangedBy: stamp.by };
  const app = { appCredentialChangedAt: stamp.at, appCredentialChangedBy: stamp.by };
  const leftApp: SecretColumns = hasAppCredential(current) ? { ...NO_APP_CREDENTIAL, ...app } : {};
  const leftPassword: SecretColumns = current?.passwordSealed ? { passwordSealed: null, ...password } : {};
  // The sign-in itself is the credential: it is kept with the tokens, not typed into the form.
  if (input.signInMethod === "device") return { ...leftPassword, ...leftApp };
  if (input.signInMethod === "app") {
    if (input.clientSecret) {
      const clientSecretSealed = seal(input.clientSecret, appSecretContext(owner, "client_secret"));
      return {
        ...leftPassword,
        ...NO_APP_CREDENTIAL,
        clientSecretSealed,
        appCredentialExpiresAt: input.clientSecretExpiresAt ?? null,
        ...app,
      };
    }
    if (input.certificatePem && input.privateKeyPem) {
      const checked = checkCertificate(input.certificatePem, input.privateKeyPem);
      const privateKeySealed = seal(input.privateKeyPem, appSecretContext(owner, "private_key"));
      const expiresAt = checked.ok ? checked.expiresAt : null;
      return {
        ...leftPassword,
        ...NO_APP_CREDENTIAL,
        certificatePem: input.certificatePem,
        privateKeySealed,
        appCredentialExpiresAt: expiresAt,
        ...app,
      };
    }
    return leftPassword;
  }
  if (input.password) return { ...leftApp, passwordSealed: sealMailboxPassword(owner, input.password), ...password };
  if (input.clearPassword) return { ...leftApp, passwordSealed: null, ...password };
  return leftApp;
}

export function hasAppCredential(
  mailbox: Pick<Mailbox, "clientSecretSealed" | "privateKeySealed"> | undefined,
): boolean {
  return Boolean(mailbox?.clientSecretSealed || mailbox?.privateKeySealed);
}
