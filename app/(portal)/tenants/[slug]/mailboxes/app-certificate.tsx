import { ActionForm } from "@/app/_components/action-form";
import { CopyButton } from "@/app/_components/copy-button";
import type { ActionResult } from "@/lib/action-result";
import { formatUtc } from "@/lib/format-time";
import type { MailboxView } from "@/lib/mailbox/queries";

type Props = {
  action: (previous: ActionResult | null, formData: FormData) => Promise<ActionResult>;
  mailbox: MailboxView;
  tenantId: number;
  downloadHref: string;
};

/**
 * The certificate for app-only access: the public part to upload to the app registration, and a way to
 * make one. A server component: only its form and copy button run in the browser.
 */
export function AppCertificate({ action, mailbox, tenantId, downloadHref }: Props) {
  const pem = mailbox.appCredentialState === "certificate" ? mailbox.certificatePem : null;
  return (
    <section aria-labelledby="certificate">
      <h2 id="certificate">App-only certificate</h2>
      {pem ? (
        <>
          <p>
            Upload this certificate to the app registration → Certificates &amp; secrets → Certificates → Upload
            certificate.
            {mailbox.appCredentialExpiresAt &&
              ` It expires on ${formatUtc(mailbox.appCredentialExpiresAt).slice(0, 10)}.`}{" "}
            Its private key stays in Navigator Mail, encrypted.
          </p>
          <div className="command">
            <pre>{pem}</pre>
            <CopyButton text={pem} label="Copy certificate" copiedLabel="Certificate copied" />{" "}
            <a href={downloadHref} download>
              Download .cer
            </a>
          </div>
        </>
      ) : (
        <p className="muted">
          Navigator Mail can make a key pair and a certificate for this app registration. The private key never leaves
          the portal; you upload only the certificate. Generating one switches this mailbox to App-only.
        </p>
      )}
      <ActionForm
        action={action}
        submitLabel={pem ? "Generate a new certificate" : "Generate a certificate"}
        pendingLabel="Generating…"
        inline
      >
        <input type="hidden" name="tenantId" value={tenantId} />
        <input type="hidden" name="mailboxId" value={mailbox.id} />
        <input type="hidden" name="version" value={mailbox.version} />
      </ActionForm>
    </section>
  );
}
