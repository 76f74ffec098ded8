import { AppCertificate } from "@/app/(portal)/tenants/[slug]/mailboxes/app-certificate";
import { DeleteMailbox } from "@/app/(portal)/tenants/[slug]/mailboxes/delete-mailbox";
import { DeviceSignIn } from "@/app/(portal)/tenants/[slug]/mailboxes/device-sign-in";
import { EntraSetup } from "@/app/(portal)/tenants/[slug]/mailboxes/entra-setup";
import { MailboxForm } from "@/app/(portal)/tenants/[slug]/mailboxes/mailbox-form";
import { TestPanel } from "@/app/(portal)/tenants/[slug]/mailboxes/test-panel";

/**
 * Every island the plain pages render, by the name island() gives it (app/_components/island.tsx),
 * for the island script to hydrate. A test renders the plain pages and checks each name is here.
 */
export const ISLANDS: Record<string, unknown> = {
  AppCertificate,
  DeleteMailbox,
  DeviceSignIn,
  EntraSetup,
  MailboxForm,
  TestPanel,
};
