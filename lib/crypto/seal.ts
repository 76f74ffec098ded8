import "server-only";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { getEnv } from "@/lib/env";

// Sealed value: "v1.<kid>.<iv>.<ciphertext>.<tag>" (base64url parts), AES-256-GCM.
// The associated data names the owner (tenant, row, field), so a value copied to another row fails to open.

const VERSION = "v1";
// GCM accepts shorter tags unless told otherwise; a 4-byte tag is forgeable by trial.
const TAG_BYTES = 16;

export type SealingKey = { id: string; key: Buffer };

export class SealError extends Error {
  constructor(reason: string) {
    super(`sealed value cannot be opened: ${reason}`);
    this.name = "SealError";
  }
}

export function sealingContext(parts: {
  tenantId: number;
  table: string;
  rowId: number | string;
  field: string;
}): string {
  return `navigator-mail:${parts.table}:${parts.tenantId}:${parts.rowId}:${parts.field}`;
}

export function seal(plaintext: string, context: string, keys: SealingKey[] = getEnv().SECRETS_KEYS): string {
  const active = keys[0];
  if (!active) throw new SealError("no sealing key is configured");
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", active.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [
    VERSION,
    active.id,
    iv.toString("base64url"),
    ciphertext.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
  ].join(".");
}

export function open(sealed: string, context: string, keys: SealingKey[] = getEnv().SECRETS_KEYS): string {
  const [version, kid, iv, ciphertext, tag, ...rest] = sealed.split(".");
  if (version !== VERSION || !kid || !iv || ciphertext === undefined || !tag || rest.length > 0)
    throw new SealError("unknown format");
  const key = keys.find((k) => k.id === kid);
  if (!key) throw new SealError(`key "${kid}" is not configured`);
  const tagBytes = Buffer.from(tag, "base64url");
  if (tagBytes.length !== TAG_BYTES) throw new SealError("authentication tag has the wrong length");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tagBytes);
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SealError("authentication failed (wrong key, or the value belongs to another record)");
  }
}

export function sealedKeyId(sealed: string): string | undefined {
  return sealed.split(".")[1];
}

export function canOpen(sealed: string, context: string, keys?: SealingKey[]): boolean {
  try {
    open(sealed, context, keys);
    return true;
  } catch {
    return false;
  }
}
