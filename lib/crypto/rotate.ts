import "server-only";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { mailboxes } from "@/db/schema";
import { recordAudit } from "@/lib/audit/log";
import { getEnv } from "@/lib/env";
import { openMailboxPassword, sealMailboxPassword } from "@/lib/mailbox/password";
import { sealedKeyId, type SealingKey } from "./seal";

export type RotationReport = { resealed: number; current: number; unreadable: { mailboxId: number; tenantId: number; name: string }[] };

/** Re-seals every stored secret under the active (first) key. Idempotent: a second run re-seals nothing. */
export function resealAll(db: Db, keys: SealingKey[] = getEnv().SECRETS_KEYS): RotationReport {
  const activeId = keys[0]!.id;
  const report: RotationReport = { resealed: 0, current: 0, unreadable: [] };
  db.transaction((tx) => {
    const rows = tx.select().from(mailboxes).all();
    for (const mailbox of rows) {
      if (mailbox.passwordSealed === null) continue;
      if (sealedKeyId(mailbox.passwordSealed) === activeId) {
        report.current++;
        continue;
      }
      let password: string | null;
      try {
        password = openMailboxPassword(mailbox, keys);
      } catch {
        report.unreadable.push({ mailboxId: mailbox.id, tenantId: mailbox.tenantId, name: mailbox.name });
        continue;
      }
      tx.update(mailboxes).set({ passwordSealed: sealMailboxPassword(mailbox, password!, keys) }).where(eq(mailboxes.id, mailbox.id)).run();
      report.resealed++;
    }
    if (report.resealed > 0) {
      recordAudit(tx, null, {
        tenantId: null,
        action: "keys.rotate",
        targetType: "secrets",
        targetId: activeId,
        targetLabel: `key ${activeId}`,
        changes: { resealed: { to: report.resealed }, unreadable: { to: report.unreadable.length } },
      });
    }
  });
  return report;
}
