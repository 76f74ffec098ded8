import { performance } from "node:perf_hooks";
import { getDb } from "@/db/client";

/**
 * Seeds the portal's database directly: `tenants` tenants, `mailboxes` Microsoft 365 mailboxes spread
 * over them (a tenth of the tenants hold most), three finished tests per mailbox in the last days, an
 * admin per tenant, and an alert (delivered to one webhook channel) per failing mailbox.
 */
export function seedAtScale(tenantCount: number, mailboxCount: number) {
  const started = performance.now();
  const sqlite = getDb().$client;
  const now = Date.now();
  const addTenant = sqlite.prepare("INSERT INTO tenants (slug, name, created_at, updated_at) VALUES (?, ?, ?, ?)");
  const addMailbox = sqlite.prepare(
    `INSERT INTO mailboxes (tenant_id, name, type, login, smtp_host, smtp_port, imap_host, imap_port, use_tls,
       azure_client_id, azure_tenant_id, updated_by, created_at, updated_at, health, health_since, last_test_at, last_failure_code)
     VALUES (?, ?, 'smtp_imap', ?, 'smtp.office365.com', 587, 'outlook.office365.com', 993, 1,
       '1b2c3d4e-0000-4000-8000-123456789abc', '9f8e7d6c-0000-4000-8000-abcdefabcdef', 'bench', ?, ?, ?, ?, ?, ?)`,
  );
  const addTest = sqlite.prepare(
    `INSERT INTO mailbox_tests (mailbox_id, tenant_id, started_at, finished_at, outcome, source, mode, triggered_by, steps, credential_fingerprint, failure_code)
     VALUES (?, ?, ?, ?, ?, 'saved', 'light', 'scheduler', '[]', 'bench', ?)`,
  );
  const addUser = sqlite.prepare(
    `INSERT INTO users (email, name, password_hash, role, tenant_id, created_at, updated_at)
     VALUES (?, ?, 'bench-no-password', 'tenant_admin', ?, ?, ?)`,
  );
  const addChannel = sqlite.prepare(
    `INSERT INTO alert_channels (tenant_id, kind, name, webhook_host, created_by, created_at) VALUES (?, 'webhook', 'Ops', 'hooks.example.com', 'bench', ?)`,
  );
  const addAlert = sqlite.prepare(
    `INSERT INTO alerts (tenant_id, mailbox_id, mailbox_name, kind, state, title, detail, created_at)
     VALUES (?, ?, ?, 'failing', 'failing', ?, 'The password was refused.', ?)`,
  );
  const addDelivery = sqlite.prepare(
    `INSERT INTO alert_deliveries (alert_id, channel_id, status, attempts, next_attempt_at, delivered_at) VALUES (?, ?, 'delivered', 1, ?, ?)`,
  );
  const channels = new Map<number, number>();
  let tests = 0;
  let busiest = { slug: "", mailboxId: 0 };
  sqlite.transaction(() => {
    const tenantIds: number[] = [];
    for (let t = 0; t < tenantCount; t++) {
      const slug = `tenant-${t}`;
      const tenantId = Number(addTenant.run(slug, `Tenant ${t}`, now, now).lastInsertRowid);
      tenantIds.push(tenantId);
      addUser.run(`admin-${t}@tenant-${t}.example`, `Admin ${t}`, tenantId, now, now);
    }
    for (let m = 0; m < mailboxCount; m++) {
      // Half the mailboxes in the first tenth of the tenants, the rest one or two per tenant.
      const index = m % 2 === 0 ? m % Math.max(1, Math.floor(tenantCount / 10)) : m % tenantCount;
      const tenantId = tenantIds[index]!;
      const failing = m % 17 === 0;
      const last = now - (m % 50) * 3_600_000;
      const mailboxId = Number(
        addMailbox.run(
          tenantId,
          `Box-${m}`,
          `box-${m}@contoso.com`,
          now,
          now,
          failing ? "failing" : "healthy",
          last,
          last,
          failing ? "AADSTS50126" : null,
        ).lastInsertRowid,
      );
      for (let k = 0; k < 3; k++) {
        const at = last - k * 86_400_000;
        addTest.run(
          mailboxId,
          tenantId,
          at,
          at + 900,
          failing && k === 0 ? "failed" : "passed",
          failing && k === 0 ? "AADSTS50126" : null,
        );
        tests++;
      }
      if (failing) {
        const channelId = channels.get(tenantId) ?? Number(addChannel.run(tenantId, now).lastInsertRowid);
        channels.set(tenantId, channelId);
        const alertId = Number(
          addAlert.run(tenantId, mailboxId, `Box-${m}`, `Box-${m} is failing`, last).lastInsertRowid,
        );
        addDelivery.run(alertId, channelId, last, last);
      }
      if (index === 0) busiest = { slug: "tenant-0", mailboxId };
    }
  })();
  return {
    tests,
    ms: Math.round(performance.now() - started),
    busiestSlug: busiest.slug,
    mailboxId: busiest.mailboxId,
  };
}
