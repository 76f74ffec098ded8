import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "../temp";
import type { RigTls } from "./tls";

const DOVECOT_BIN = "/usr/sbin/dovecot";

export type DovecotOptions = {
  ip: string;
  tls: RigTls;
  lmtpPort: number;
  /** Issuers whose RS256 tokens (signed by publicKeyPem under kid) Dovecot accepts. */
  issuers: string[];
  kid: string;
  publicKeyPem: string;
  /** Users allowed plain password login (the password mailboxes). */
  passwords: Record<string, string>;
  /** The file of Exchange's mailbox permissions for app-only service principals (ExchangePermissions). */
  exchangeFile: string;
  /** A master user (`mailbox*user` with its password): how the rig's Graph reads any mailbox. */
  master: { user: string; password: string };
};

const TOKEN_CHECK = path.join(import.meta.dirname, "dovecot-exchange-token.mjs");

/** Dovecot 2.3 with its own configuration, on the rig's loopback address: IMAP 143 (STARTTLS), 993 (TLS), LMTP. */
export class Dovecot {
  readonly dir = tempDir("navigator-dovecot-");
  private process?: ChildProcess;

  constructor(private readonly options: DovecotOptions) {}

  async start(): Promise<this> {
    if (!fs.existsSync(DOVECOT_BIN)) {
      throw new Error(
        `Dovecot is not installed (${DOVECOT_BIN} missing). Install it with: apt-get install dovecot-imapd dovecot-lmtpd (.ci/run does this).`,
      );
    }
    const o = this.options;
    const dir = this.dir;
    for (const sub of ["run", "state", "mail", `keys/default/RS256`])
      fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, "mail"), 0o777);
    fs.writeFileSync(path.join(dir, "keys/default/RS256", o.kid), o.publicKeyPem);
    fs.writeFileSync(
      path.join(dir, "passwd"),
      `${Object.entries(o.passwords)
        .map(([user, pw]) => `${user}:{PLAIN}${pw}::::::`)
        .join("\n")}\n`,
    );
    fs.writeFileSync(path.join(dir, "master-passwd"), `${o.master.user}:{PLAIN}${o.master.password}::::::\n`);
    fs.writeFileSync(
      path.join(dir, "oauth2.conf"),
      [
        "introspection_mode = local",
        `local_validation_key_dict = fs:posix:prefix=${dir}/keys/`,
        "username_attribute = upn",
        `issuers = ${o.issuers.join(" ")}`,
        "client_id = https://outlook.office.com",
        "active_attribute =",
        "active_value =",
        "",
      ].join("\n"),
    );
    // Tokens the oauth2 passdb cannot match to the user (app-only tokens carry no upn; a delegate opens a
    // mailbox not its own) go to a Lua step that checks the role or scope and the mailbox permission, as Exchange does.
    fs.writeFileSync(
      path.join(dir, "app-token.json"),
      JSON.stringify({ publicKeyPem: o.publicKeyPem, issuers: o.issuers, accessFile: o.exchangeFile }),
      { mode: 0o644 },
    );
    const check = `"${process.execPath}" "${TOKEN_CHECK}" "${dir}/app-token.json" >/dev/null`;
    fs.writeFileSync(
      path.join(dir, "app-token.lua"),
      [
        "function auth_passdb_lookup(request)",
        '  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "app tokens only"',
        "end",
        "function auth_password_verify(request, token)",
        `  local check = io.popen([[${check}]], "w")`,
        '  check:write(request.user .. "\\0" .. token .. "\\0")',
        "  if check:close() then return dovecot.auth.PASSDB_RESULT_OK, {} end",
        '  return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "app token refused"',
        "end",
        "",
      ].join("\n"),
      { mode: 0o644 },
    );
    fs.writeFileSync(path.join(dir, "dovecot.conf"), this.config());
    this.process = spawn(DOVECOT_BIN, ["-F", "-c", path.join(dir, "dovecot.conf")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    this.process.stdout!.on("data", (c) => (output += c));
    this.process.stderr!.on("data", (c) => (output += c));
    await waitForPort(o.ip, 993, 10_000, () =>
      this.process!.exitCode !== null ? `dovecot exited: ${output}\n${this.log()}` : null,
    );
    await waitForPort(o.ip, o.lmtpPort, 10_000, () => null);
    return this;
  }

  log(): string {
    const file = path.join(this.dir, "dovecot.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  }

  /** Messages in a user's INBOX (new and cur), for tests that check what was delivered or deleted. */
  inboxCount(user: string): number {
    return this.inboxFiles(user).length;
  }

  /** The raw messages in a user's INBOX, for tests that check what arrived (headers, attachments). */
  inboxMessages(user: string): string[] {
    return this.inboxFiles(user).map((file) => fs.readFileSync(file, "utf8"));
  }

  private inboxFiles(user: string): string[] {
    const base = path.join(this.dir, "mail", user.split("@")[0]!, "Maildir");
    return ["new", "cur"].flatMap((sub) => {
      const dir = path.join(base, sub);
      return fs.existsSync(dir) ? fs.readdirSync(dir).map((file) => path.join(dir, file)) : [];
    });
  }

  async stop(): Promise<void> {
    if (!this.process || this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process!.once("exit", resolve));
    this.process.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.process.exitCode === null) this.process.kill("SIGKILL");
  }

  private config(): string {
    const o = this.options;
    const dir = this.dir;
    return `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
protocols = imap lmtp
listen = ${o.ip}
ssl = yes
ssl_cert = <${o.tls.certPem}
ssl_key = <${o.tls.keyPem}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = xoauth2 plain login
auth_failure_delay = 0
mail_location = maildir:${dir}/mail/%n/Maildir
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
default_internal_user = dovecot
default_login_user = dovenull
service imap-login {
  inet_listener imap {
    address = ${o.ip}
    port = 143
  }
  inet_listener imaps {
    address = ${o.ip}
    port = 993
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = ${o.ip}
    port = ${o.lmtpPort}
  }
}
service auth-worker {
  # The app-token check runs Node, whose address-space reservation exceeds Dovecot's default 256 MB limit.
  vsz_limit = 0
}
service anvil {
  # No auth-penalty socket, no failed-login penalty (2-15 s) slowing the failure tests down.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
auth_policy_server_url =
auth_master_user_separator = *
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN username_format=%u ${dir}/master-passwd
}
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = ${dir}/oauth2.conf
}
passdb {
  driver = lua
  mechanisms = xoauth2
  args = file=${dir}/app-token.lua blocking=yes
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%n allow_all_users=yes
}
protocol lmtp {
  auth_username_format = %Lu
}
`;
  }
}

async function waitForPort(host: string, port: number, timeoutMs: number, failure: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failure();
    if (problem) throw new Error(problem);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
