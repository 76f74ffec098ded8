import type { Metadata } from "next";
import { describeIdentities } from "@/lib/engine/settings";
import { formatUtc } from "@/lib/format-time";
import { toMailboxView } from "@/lib/mailbox/queries";
import { openDeviceSignIn } from "@/lib/service/device-sign-ins";
import { recentEntraSetup } from "@/lib/service/entra-setups/view";
import { credentialLine } from "@/lib/service/report";
import { signInStateOf } from "@/lib/service/sign-in-state";
import { lastTestsFor } from "@/lib/service/test-history";
import { deleteMailboxAction, generateCertificateAction, saveMailboxAction, switchTransportAction } from "../actions";
import { AppCertificate } from "../app-certificate";
import { DeleteMailbox } from "../delete-mailbox";
import { DeviceSignIn, EntraSetup } from "../lazy-parts";
import { MAILBOX_FORM_ID, MailboxForm } from "../mailbox-form";
import { MAILBOX_FORM_TEXT } from "../mailbox-form-text";
import { TestPanel } from "../test-panel";
import { loadMailboxPage } from "./load";
import { MailboxNav } from "./mailbox-nav";
import { OutcomeBadge } from "./outcome-badge";

type Props = {
  params: Promise<{ slug: string; mailboxId: string }>;
  searchParams: Promise<{ created?: string; move?: string }>;
};

export const metadata: Metadata = { title: "Mailbox" };

export default async function MailboxPage({ params, searchParams }: Props) {
  const { actor, db, tenant, mailbox: row, base } = await loadMailboxPage(params);
  const mailbox = toMailboxView(row);
  const last = (await lastTestsFor(db, [mailbox.id])).get(mailbox.id);
  const setup = await recentEntraSetup(db, { tenantId: tenant.id, mailboxId: mailbox.id });
  const { created, move } = await searchParams;
  // From the migration view: app-only through the one-click setup, proven by a test before it switches.
  const moveToApp = move === "app" && mailbox.signInMethod === "password";
  return (
    <>
      <MailboxNav base={base} current="" tenant={tenant} />
      <h1>{mailbox.name}</h1>
      {created && <p className="notice">Mailbox created. Send a test email to prove the settings work.</p>}
      <p className="muted">
        Last test: <OutcomeBadge test={last} /> · Version {mailbox.version}, last changed by {mailbox.updatedBy} on{" "}
        {formatUtc(mailbox.updatedAt)} UTC.
      </p>
      {(!mailbox.azureClientId || setup || moveToApp) && (
        <EntraSetup
          api={`/api/tenants/${tenant.slug}/mailboxes/${mailbox.id}/entra-setup`}
          target="mailbox"
          domain={mailbox.login.split("@")[1] ?? ""}
          initial={setup}
          appOnly={mailbox.signInMethod === "app" || moveToApp}
          graph={mailbox.transport === "graph"}
        />
      )}
      {mailbox.signInMethod === "device" && (
        <DeviceSignIn
          tenantSlug={tenant.slug}
          mailboxId={mailbox.id}
          login={mailbox.login}
          state={signInStateOf(mailbox)}
          open={await openDeviceSignIn(db, mailbox.id)}
        />
      )}
      <TestPanel
        tenantSlug={tenant.slug}
        mailboxId={mailbox.id}
        formId={MAILBOX_FORM_ID}
        header={{
          mailbox: mailbox.name,
          login: describeIdentities(mailbox),
          tenant: tenant.name,
          credential: credentialLine(mailbox),
        }}
        user={actor.email}
        historyHref={`${base}/tests`}
        graphTrial={
          mailbox.transport === "smtp_imap" && mailbox.signInMethod !== "basic"
            ? { tenantId: tenant.id, version: mailbox.version, switchAction: switchTransportAction }
            : undefined
        }
      />
      <h2>Settings</h2>
      <MailboxForm
        text={MAILBOX_FORM_TEXT}
        action={saveMailboxAction}
        tenantId={tenant.id}
        tenantMonitoring={tenant}
        mailbox={mailbox}
      />
      {mailbox.azureClientId && (
        <AppCertificate
          action={generateCertificateAction}
          mailbox={mailbox}
          tenantId={tenant.id}
          downloadHref={`${base}/certificate`}
        />
      )}
      <section aria-labelledby="danger">
        <h2 id="danger">Delete</h2>
        <DeleteMailbox action={deleteMailboxAction} tenantId={tenant.id} mailboxId={mailbox.id} name={mailbox.name} />
      </section>
    </>
  );
}
