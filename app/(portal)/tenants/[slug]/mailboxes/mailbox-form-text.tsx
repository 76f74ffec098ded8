import { MAILBOX_FIELDS } from "@/lib/mailbox/fields";

// The mailbox form's static words, kept on the server: the form (a client component) gets them as
// props, so they travel in the page, not in its JavaScript.

export const MAILBOX_FORM_TEXT = {
  fields: MAILBOX_FIELDS,
  notes: {
    password: (
      <>
        Microsoft is retiring sign-in with a user&apos;s password for apps, and multi-factor authentication or
        Conditional Access on the account blocks it. If that applies to this mailbox, choose{" "}
        <a href="#microsoft-sign-in-method">Microsoft sign-in</a> or <a href="#app-only">App-only</a>.
      </>
    ),
    device: (
      <>
        Microsoft sign-in uses the same app registration (Allow public client flows = Yes, the delegated SMTP.Send and
        IMAP.AccessAsUser.All permissions). After saving, press Sign in with Microsoft on this page and sign in as the
        Login, with MFA if the account has it. No password is stored; Navigator Mail keeps and renews the sign-in.
      </>
    ),
    appOnly: (
      <>
        The app registration signs in as itself with the application permissions SMTP.SendAsApp and IMAP.AccessAsApp;
        Exchange also needs the app&apos;s service principal and a permission on this mailbox (see the setup checklist).
      </>
    ),
    monitoring: (
      <>
        Navigator Mail tests the mailbox on its own and shows the result on the status page. A light test only signs in;
        a full test sends and receives a message.
      </>
    ),
    graph: (
      <>
        Microsoft Graph sends with sendMail and reads the inbox over HTTPS at the Microsoft cloud&apos;s Graph address,
        so the SMTP and IMAP servers below are not used (they stay stored). The app registration needs the Microsoft
        Graph permissions Mail.Send to send and Mail.ReadWrite to receive: delegated for a user sign-in, application for
        app-only.
      </>
    ),
    azure: <>Leave both empty for plain password login (providers other than Microsoft 365).</>,
  },
};

export type MailboxFormText = typeof MAILBOX_FORM_TEXT;
