import type { Metadata } from "next";
import { CopyButton } from "@/app/_components/copy-button";
import { type ChecklistStatus, setupChecklist } from "@/lib/service/checklist";
import { servicePrincipalOf } from "@/lib/service/entra-setups/view";
import { lastTestsFor } from "@/lib/service/test-history";
import { loadMailboxPage } from "../load";
import { MailboxNav } from "../mailbox-nav";
import { OutcomeBadge } from "../outcome-badge";

export const metadata: Metadata = { title: "Setup checklist" };

const STATUS: Record<ChecklistStatus, string> = {
  passed: "Done",
  failed: "Needs fixing",
  unknown: "Unknown",
  "not-needed": "Not needed",
};

export default async function SetupChecklistPage({ params }: { params: Promise<{ slug: string; mailboxId: string }> }) {
  const { db, tenant, mailbox, base } = await loadMailboxPage(params);
  const last = (await lastTestsFor(db, [mailbox.id])).get(mailbox.id);
  // After the one-click setup, the PowerShell can name the app's Enterprise application itself.
  const items = setupChecklist(mailbox, last, { servicePrincipalId: await servicePrincipalOf(db, mailbox) });
  return (
    <>
      <MailboxNav base={base} current="/setup" tenant={tenant} />
      <h1>Setup checklist for {mailbox.name}</h1>
      <p className="muted">
        The steps of the Microsoft Entra and Exchange setup, marked from the last test: <OutcomeBadge test={last} />
      </p>
      {mailbox.signInMethod === "app" && (
        <p className="notice">
          This mailbox signs in app-only: the app registration needs application permissions, a client secret or the
          certificate, and Exchange needs the app&apos;s service principal with access to the mailbox.
        </p>
      )}
      {mailbox.azureClientId === null && (
        <p className="notice">
          This mailbox uses password login (no Azure Application ClientID), so the app registration steps are not
          needed.
        </p>
      )}
      <ol className="checklist">
        {items.map((item) => (
          <li key={item.key} className={`check check-${item.status}`}>
            <div className="step-head">
              <span className="step-icon" aria-hidden="true" />
              <strong>{item.title}</strong>
              <span className="step-status">{STATUS[item.status]}</span>
            </div>
            <p>{item.how}</p>
            {item.value && (
              <p>
                Value in Navigator Mail: <code>{item.value}</code>
              </p>
            )}
            {item.command && (
              <div className="command">
                <pre>{item.command}</pre>
                <CopyButton text={item.command} label="Copy" copiedLabel="Copied" />
              </div>
            )}
            {item.note && <p className="muted">{item.note}</p>}
          </li>
        ))}
      </ol>
    </>
  );
}
