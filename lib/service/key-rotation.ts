import "server-only";
import { eq, isNotNull } from "drizzle-orm";
import { type Db, type Tx, transaction } from "@/db/client";
import { alertChannels, deviceSignIns, entraSetups, mailboxes, tokenCaches } from "@/db/schema";
import { webhookContext } from "@/lib/alerts/channels";
import { recordAudit } from "@/lib/audit/log";
import { open, type SealingKey, seal, sealedKeyId } from "@/lib/crypto/seal";
import { getEnv } from "@/lib/env";
import { appSecretContext, mailboxPasswordContext } from "@/lib/mailbox/password";
import { tokenCacheContext } from "@/lib/mailbox/token-cache-store";
import { deviceCodeContext } from "./device-sign-ins";
import { setupKeyContext, setupTokenContext } from "./entra-setups/flow";

/** A sealed value and its owner: a mailbox's field, an alert channel's webhook, an Entra setup's new key. */
type SealedRow = { id: number | string; tenantId: number; name: string; sealed: string };
type Owner = "mailbox" | "alert channel" | "Entra setup";

/**
 * Every column that holds a sealed value. A secret an administrator typed is reported when no key
 * opens it (it must be typed again); a token cache is only a cache, so an unreadable one is dropped.
 */
const SEALED_COLUMNS: {
  owner: Owner;
  rows(tx: Tx): Promise<SealedRow[]>;
  context(row: SealedRow): string;
  write(tx: Tx, row: SealedRow, sealed: string | null): Promise<unknown>;
  unreadable: "report" | "drop";
}[] = [
  {
    owner: "mailbox",
    rows: async (tx) =>
      (await tx
        .select({
          id: mailboxes.id,
          tenantId: mailboxes.tenantId,
          name: mailboxes.name,
          sealed: mailboxes.passwordSealed,
        })
        .from(mailboxes)
        .where(isNotNull(mailboxes.passwordSealed))) as SealedRow[],
    context: (row) => mailboxPasswordContext({ id: Number(row.id), tenantId: row.tenantId }),
    write: async (tx, row, sealed) =>
      await tx
        .update(mailboxes)
        .set({ passwordSealed: sealed })
        .where(eq(mailboxes.id, Number(row.id))),
    unreadable: "report",
  },
  ...(["clientSecretSealed", "privateKeySealed"] as const).map((column) => ({
    owner: "mailbox" as const,
    rows: async (tx: Tx) =>
      (await tx
        .select({
          id: mailboxes.id,
          tenantId: mailboxes.tenantId,
          name: mailboxes.name,
          sealed: mailboxes[column],
        })
        .from(mailboxes)
        .where(isNotNull(mailboxes[column]))) as SealedRow[],
    context: (row: SealedRow) =>
      appSecretContext(
        { id: Number(row.id), tenantId: row.tenantId },
        column === "clientSecretSealed" ? "client_secret" : "private_key",
      ),
    write: async (tx: Tx, row: SealedRow, sealed: string | null) =>
      await tx
        .update(mailboxes)
        .set({ [column]: sealed })
        .where(eq(mailboxes.id, Number(row.id))),
    unreadable: "report" as const,
  })),
  {
    owner: "mailbox",
    rows: async (tx) =>
      await tx
        .select({
          id: mailboxes.id,
          tenantId: mailboxes.tenantId,
          name: mailboxes.name,
          sealed: tokenCaches.cacheSealed,
        })
        .from(tokenCaches)
        .innerJoin(mailboxes, eq(mailboxes.id, tokenCaches.mailboxId)),
    context: (row) => tokenCacheContext({ id: Number(row.id), tenantId: row.tenantId }),
    write: async (tx, row, sealed) =>
      sealed === null
        ? await tx.delete(tokenCaches).where(eq(tokenCaches.mailboxId, Number(row.id)))
        : await tx
            .update(tokenCaches)
            .set({ cacheSealed: sealed })
            .where(eq(tokenCaches.mailboxId, Number(row.id))),
    unreadable: "drop",
  },
  {
    owner: "alert channel",
    rows: async (tx) =>
      (await tx
        .select({
          id: alertChannels.id,
          tenantId: alertChannels.tenantId,
          name: alertChannels.name,
          sealed: alertChannels.webhookSealed,
        })
        .from(alertChannels)
        .where(isNotNull(alertChannels.webhookSealed))) as SealedRow[],
    context: (row) => webhookContext({ id: Number(row.id), tenantId: row.tenantId }),
    write: async (tx, row, sealed) =>
      await tx
        .update(alertChannels)
        .set({ webhookSealed: sealed })
        .where(eq(alertChannels.id, Number(row.id))),
    unreadable: "report",
  },
  {
    // A setup still waiting for its test holds the key of the certificate it gave the app. One no key
    // opens is dropped with its setup: starting again gives the app a new certificate.
    owner: "Entra setup",
    rows: async (tx) =>
      (await tx
        .select({
          id: entraSetups.id,
          tenantId: entraSetups.tenantId,
          name: entraSetups.appName,
          sealed: entraSetups.privateKeySealed,
        })
        .from(entraSetups)
        .where(isNotNull(entraSetups.privateKeySealed))) as SealedRow[],
    context: (row) => setupKeyContext({ tenantId: row.tenantId, id: String(row.id) }),
    write: async (tx, row, sealed) =>
      sealed === null
        ? await tx.delete(entraSetups).where(eq(entraSetups.id, String(row.id)))
        : await tx
            .update(entraSetups)
            .set({ privateKeySealed: sealed })
            .where(eq(entraSetups.id, String(row.id))),
    unreadable: "drop",
  },
  {
    // The device code of a sign-in still waiting: one no key opens is erased (that sign-in can then
    // be polled only by the process that started it).
    owner: "mailbox",
    rows: async (tx) =>
      (await tx
        .select({
          id: deviceSignIns.id,
          tenantId: deviceSignIns.tenantId,
          name: mailboxes.name,
          sealed: deviceSignIns.deviceCodeSealed,
        })
        .from(deviceSignIns)
        .innerJoin(mailboxes, eq(mailboxes.id, deviceSignIns.mailboxId))
        .where(isNotNull(deviceSignIns.deviceCodeSealed))) as SealedRow[],
    context: (row) => deviceCodeContext({ tenantId: row.tenantId, id: String(row.id) }),
    write: async (tx, row, sealed) =>
      await tx
        .update(deviceSignIns)
        .set({ deviceCodeSealed: sealed })
        .where(eq(deviceSignIns.id, String(row.id))),
    unreadable: "drop",
  },
  {
    // The Graph token of a setup under way: one no key opens is erased (the admin signs in again).
    owner: "Entra setup",
    rows: async (tx) =>
      (await tx
        .select({
          id: entraSetups.id,
          tenantId: entraSetups.tenantId,
          name: entraSetups.appName,
          sealed: entraSetups.graphTokenSealed,
        })
        .from(entraSetups)
        .where(isNotNull(entraSetups.graphTokenSealed))) as SealedRow[],
    context: (row) => setupTokenContext({ tenantId: row.tenantId, id: String(row.id) }),
    write: async (tx, row, sealed) =>
      await tx
        .update(entraSetups)
        .set(sealed === null ? { graphTokenSealed: null, graphTokenUntil: null } : { graphTokenSealed: sealed })
        .where(eq(entraSetups.id, String(row.id))),
    unreadable: "drop",
  },
];

export type RotationReport = {
  resealed: number;
  current: number;
  /** Typed secrets (passwords, app credentials, webhook URLs) no configured key opens: they must be entered again. */
  unreadable: { owner: Owner; id: number | string; tenantId: number; name: string }[];
  /** Token caches (and unfinished setups' keys) no configured key opens: dropped, so the next test signs in afresh. */
  dropped: number;
};

/** Re-seals every sealed value under the active (first) key. Idempotent: a second run re-seals nothing. */
export async function resealAll(db: Db, keys: SealingKey[] = getEnv().SECRETS_KEYS): Promise<RotationReport> {
  const activeId = keys[0]!.id;
  const report: RotationReport = { resealed: 0, current: 0, unreadable: [], dropped: 0 };
  await transaction(db, async (tx) => {
    for (const column of SEALED_COLUMNS) {
      for (const row of await column.rows(tx)) {
        if (sealedKeyId(row.sealed) === activeId) {
          report.current++;
          continue;
        }
        const context = column.context(row);
        let plain: string;
        try {
          plain = open(row.sealed, context, keys);
        } catch {
          if (column.unreadable === "report") {
            report.unreadable.push({ owner: column.owner, id: row.id, tenantId: row.tenantId, name: row.name });
          } else {
            await column.write(tx, row, null);
            report.dropped++;
          }
          continue;
        }
        await column.write(tx, row, seal(plain, context, keys));
        report.resealed++;
      }
    }
    if (report.resealed > 0 || report.dropped > 0) {
      await recordAudit(tx, null, {
        tenantId: null,
        action: "keys.rotate",
        targetType: "secrets",
        targetId: activeId,
        targetLabel: `key ${activeId}`,
        changes: {
          resealed: { to: report.resealed },
          unreadable: { to: report.unreadable.length },
          droppedTokenCaches: { to: report.dropped },
        },
      });
    }
  });
  return report;
}
