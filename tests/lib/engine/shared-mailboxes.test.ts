import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openInbox } from "@/lib/engine/imap";
import { type CheckOptions, runChecksToEnd } from "@/lib/engine/run-checks";
import { sendMailAs } from "@/lib/engine/send-mail";
import type { CheckSettings } from "@/lib/engine/settings";
import { faultAddress, scriptedImapPeer } from "../../support/rig/fault-peers";
import { BOTH_PERMISSIONS, GRAPH_PERMISSIONS, type Rig, startRig } from "../../support/rig/rig";
import { EVERY_GRAPH_STEP_PASSED, EVERY_STEP_PASSED, stepStatuses } from "../../support/steps";

// A Login that reads a shared Mailbox and sends as another address, against Exchange's permissions
// in the rig (FullAccess, Send As, Send on Behalf, aliases), over SMTP/IMAP and over Graph.
let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterAll(() => rig?.stop());

const options = (): CheckOptions => ({
  authorityHost: rig.entra.authorityHost,
  allowlist: rig.allowlist,
  graphHost: rig.entra.authorityHost,
});

async function check(settings: CheckSettings) {
  const result = await runChecksToEnd(settings, options());
  return { ...result, step: (name: string) => result.steps.find((s) => s.name === name) };
}

/** The line Exchange's admins run for FullAccess, as the diagnoses must show it. */
const fullAccessOn = (mailbox: string, user: string) =>
  `Add-MailboxPermission -Identity '${mailbox}' -User '${user}' -AccessRights FullAccess -InheritanceType All`;

/** A service account that signs in, a shared mailbox, and the settings that join them. */
function delegate(overrides: Partial<CheckSettings> = {}) {
  const login = rig.addUser();
  const shared = rig.addSharedMailbox();
  return {
    login: login.upn,
    password: login.password,
    shared,
    settings: rig.settings(login, { mailboxAddress: shared, ...overrides }),
  };
}

/** The Login's Exchange token, from the setup guide's password grant. */
async function outlookToken(upn: string, password: string): Promise<string> {
  const form = new URLSearchParams({
    grant_type: "password",
    client_id: rig.tenant.apps[0]!.clientId,
    username: upn,
    password,
    scope: BOTH_PERMISSIONS.map((s) => `https://outlook.office.com/${s}`).join(" "),
  });
  const answer = await fetch(`${rig.entra.authorityHost}/${rig.tenant.id}/oauth2/v2.0/token`, {
    method: "POST",
    body: form,
  });
  return ((await answer.json()) as { access_token: string }).access_token;
}

describe("SMTP and IMAP: the Login, the Mailbox and Send as, as Exchange expects them", () => {
  it("reads a shared mailbox with FullAccess and sends as it with Send As", async () => {
    const { login, shared, settings } = delegate();
    rig.exchange.grantFullAccess(shared, login);
    rig.exchange.grantSendAs(shared, login);
    const before = rig.smtp.authentications.length;
    const result = await check(settings);
    expect(stepStatuses(result)).toEqual(EVERY_STEP_PASSED);
    // Every step names the identities; SMTP signed in as the Login, never as the shared mailbox.
    expect(result.step("settings")!.summary).toBe(`OAuth (Microsoft 365) mailbox ${login}, mailbox ${shared}`);
    expect(rig.smtp.authentications.slice(before).map((a) => a.user)).toEqual([login]);
    expect(rig.dovecot.inboxCount(shared)).toBe(0);
  });

  it("sends as an alias of the Login's own mailbox, and the From is the alias", async () => {
    const user = rig.addUser();
    const alias = `billing-${randomUUID().slice(0, 6)}@contoso.com`;
    rig.exchange.addAlias(user.upn, alias);
    const result = await check(rig.settings(user, { sendAs: alias }));
    expect(stepStatuses(result)).toEqual(EVERY_STEP_PASSED);
    expect(result.step("settings")!.summary).toContain(`send as ${alias}`);

    // The same mailbox sending for a business system: the message leaves from the alias.
    const to = rig.addUser().upn;
    const sent = await sendMailAs(rig.settings(user, { sendAs: alias }), options(), {
      to: [to],
      subject: "Invoice",
      text: "Attached.",
    });
    expect(sent.ok).toBe(true);
    const [raw] = rig.dovecot.inboxMessages(to);
    expect(raw).toMatch(new RegExp(`^From: ${alias}`, "m"));
  });

  it("sends on behalf of a shared mailbox: Exchange names the Login as Sender", async () => {
    const { login, shared, settings } = delegate({ type: "smtp", mailboxAddress: null, sendAs: null });
    rig.exchange.grantSendOnBehalf(shared, login);
    const to = rig.addUser().upn;
    const sent = await sendMailAs({ ...settings, sendAs: shared }, options(), { to: [to], subject: "Hi", text: "x" });
    expect(sent.ok).toBe(true);
    const [raw] = rig.dovecot.inboxMessages(to);
    expect(raw).toMatch(new RegExp(`^From: ${shared}`, "m"));
    expect(raw).toMatch(new RegExp(`^Sender: ${login}`, "m"));
  });

  it("without FullAccess: the line that grants it, with these addresses", async () => {
    const { login, shared, settings } = delegate({ type: "imap" });
    const result = await check(settings);
    expect(result.step("imap")).toMatchObject({
      status: "failed",
      diagnosis: {
        code: "IMAP_NO_FULL_ACCESS",
        setupStep: "mailbox-access",
        command: fullAccessOn(shared, login),
      },
    });
  });

  it("without Send As: SendAsDenied, with the Send As line and the Send on Behalf one", async () => {
    const { login, shared, settings } = delegate();
    rig.exchange.grantFullAccess(shared, login);
    const result = await check(settings);
    expect(result.step("smtp")).toMatchObject({
      status: "failed",
      diagnosis: { code: "SEND_AS_DENIED", setupStep: "send-as" },
    });
    expect(result.step("smtp")!.diagnosis!.detail).toContain("5.2.252");
    expect(result.step("smtp")!.diagnosis!.command!.split("\n")).toEqual([
      `Add-RecipientPermission -Identity '${shared}' -Trustee '${login}' -AccessRights SendAs -Confirm:$false`,
      "# or, for Send on Behalf instead of Send As:",
      `Set-Mailbox -Identity '${shared}' -GrantSendOnBehalfTo @{Add='${login}'}`,
    ]);
    // The IMAP side was fine: the shared mailbox was opened.
    expect(result.step("imap")!.status).toBe("passed");
  });

  it("an alias no mailbox has: 5.7.60, with the lines that find it and add it", async () => {
    const user = rig.addUser();
    const alias = `nobody-${randomUUID().slice(0, 6)}@contoso.com`;
    const result = await check(rig.settings(user, { type: "smtp", sendAs: alias }));
    expect(result.step("smtp")).toMatchObject({
      status: "failed",
      diagnosis: { code: "SEND_AS_UNKNOWN", setupStep: "send-as" },
    });
    const lines = result.step("smtp")!.diagnosis!.command!.split("\n");
    expect(lines).toContain(`Get-Recipient -Identity '${alias}'`);
    expect(lines).toContain(`Set-Mailbox -Identity '${user.upn}' -EmailAddresses @{Add='smtp:${alias}'}`);
    expect(lines).toContain(
      `Add-RecipientPermission -Identity '${alias}' -Trustee '${user.upn}' -AccessRights SendAs -Confirm:$false`,
    );
  });

  it("quotes the addresses in the lines it shows", async () => {
    const user = rig.addUser({ upn: `o'brien-${randomUUID().slice(0, 4)}@contoso.com` });
    const shared = rig.addSharedMailbox();
    const result = await check(rig.settings(user, { type: "imap", mailboxAddress: shared }));
    expect(result.step("imap")!.diagnosis!.command).toContain(`-User '${user.upn.replace("'", "''")}'`);
  });

  it("'authenticated but not connected' on a shared Mailbox names FullAccess and the mailbox's IMAP switch", async () => {
    const fault = faultAddress(rig.ip);
    const peer = await scriptedImapPeer(fault, 1143, { startTls: false });
    try {
      const { login, password, shared } = delegate();
      const token = await outlookToken(login, password);
      const opened = await openInbox(
        { host: fault, address: fault, port: 1143, mode: "none" },
        { user: login, mailbox: shared, accessToken: token },
      );
      expect(!opened.ok && opened.diagnosis.code).toBe("IMAP_NOT_CONNECTED");
      expect(!opened.ok && opened.diagnosis.command!.split("\n")).toEqual([
        `Set-CASMailbox -Identity '${shared}' -ImapEnabled $true`,
        fullAccessOn(shared, login),
      ]);
      expect(!opened.ok && opened.diagnosis.cause).toMatch(/FullAccess.*licence.*app-only/);
    } finally {
      await peer.close();
    }
  });
});

describe("app-only on a shared mailbox: the Mailbox is the XOAUTH2 user for both", () => {
  const ROLES = ["SMTP.SendAsApp", "IMAP.AccessAsApp"];

  function appOnShared(grant: boolean) {
    const login = rig.addUser().upn;
    const shared = rig.addSharedMailbox();
    const { clientId, servicePrincipalId } = rig.addAppOnlyApp(
      { secrets: [{ value: "s3cret-value" }], appRoles: ROLES },
      grant ? [shared] : [],
    );
    const settings: CheckSettings = {
      ...rig.settings(
        { upn: login, password: "" },
        { password: null, azureClientId: clientId, mailboxAddress: shared },
      ),
      signInMethod: "app",
      appCredential: { kind: "secret", secret: "s3cret-value" },
    };
    return { shared, settings, servicePrincipalId };
  }

  it("passes with the app's permission on the shared mailbox", async () => {
    const { shared, settings } = appOnShared(true);
    const before = rig.smtp.authentications.length;
    const result = await check(settings);
    expect(stepStatuses(result)).toEqual(EVERY_STEP_PASSED);
    expect(rig.smtp.authentications.slice(before).map((a) => a.user)).toEqual([shared]);
  });

  it("without it, Exchange refuses the app for that mailbox", async () => {
    const { settings } = appOnShared(false);
    const result = await check({ ...settings, type: "imap" });
    expect(result.step("imap")).toMatchObject({ status: "failed", diagnosis: { code: "IMAP_APP_NOT_PERMITTED" } });
  });
});

describe("Microsoft Graph: /users/{Mailbox}/sendMail with from = Send as", () => {
  const SHARED_SCOPES = GRAPH_PERMISSIONS.map((p) => `${p}.Shared`);

  function graphDelegate() {
    const clientId = randomUUID();
    rig.tenant.apps.push({ clientId, publicClient: true, consented: [...GRAPH_PERMISSIONS, ...SHARED_SCOPES] });
    return delegate({ transport: "graph", azureClientId: clientId });
  }

  it("reads the shared mailbox and sends as it with FullAccess and Send As (the .Shared scopes)", async () => {
    const { login, shared, settings } = graphDelegate();
    rig.exchange.grantFullAccess(shared, login);
    rig.exchange.grantSendAs(shared, login);
    const result = await check(settings);
    expect(stepStatuses(result)).toEqual(EVERY_GRAPH_STEP_PASSED);
    expect(rig.graphMail.sent.at(-1)).toMatchObject({ mailbox: shared, to: [shared] });
  });

  it("without FullAccess: ErrorAccessDenied, with the FullAccess line", async () => {
    const { login, shared, settings } = graphDelegate();
    const result = await check({ ...settings, type: "imap" });
    expect(result.step("graph_receive")).toMatchObject({
      status: "failed",
      diagnosis: {
        code: "GRAPH_ACCESS_DENIED",
        command: fullAccessOn(shared, login),
      },
    });
  });

  it("without Send As: ErrorSendAsDenied, with the Send As line", async () => {
    const { login, shared, settings } = graphDelegate();
    rig.exchange.grantFullAccess(shared, login);
    const result = await check(settings);
    expect(result.step("graph_send")).toMatchObject({ status: "failed", diagnosis: { code: "SEND_AS_DENIED" } });
    expect(result.step("graph_send")!.diagnosis!.command).toContain(
      `Add-RecipientPermission -Identity '${shared}' -Trustee '${login}' -AccessRights SendAs -Confirm:$false`,
    );
  });
});
