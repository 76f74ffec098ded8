import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "@/db/client";
import { appDb, seedWorld, type World } from "../support/db";
import { mailboxForm } from "../support/mailbox";
import { signInAs } from "../support/session";
import { suiteOnPostgres } from "../support/test-database";

vi.mock("next/headers", async () => (await import("../support/session")).nextHeadersMock());
vi.mock("next/cache", () => ({ revalidatePath: vi.fn() }));

const { saveMailboxAction } = await import("@/app/(portal)/tenants/[slug]/mailboxes/actions");

let db: Db;
let world: World;

beforeAll(async () => {
  db = await appDb();
  world = await seedWorld(db);
});

afterEach(() => {
  db.$client.exec("DROP TRIGGER IF EXISTS fail_mailbox_writes");
  vi.restoreAllMocks();
});

function form(values: Record<string, string | number>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(values)) data.set(k, String(v));
  return data;
}

// The failing write is made with an SQLite trigger; what is logged does not depend on the database.
describe.skipIf(suiteOnPostgres())("what an unexpected failure writes to the log", () => {
  it("a failed write that carried a canary password logs name, code and message only", async () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(" "));
    });
    db.$client.exec(
      "CREATE TRIGGER fail_mailbox_writes BEFORE INSERT ON mailboxes BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    await signInAs(world.adminA);
    const canaryLogin = "canary-login-7f3a@contoso.com";
    const canaryPassword = "canary-password-7f3a";
    const result = await saveMailboxAction(
      null,
      form({
        ...mailboxForm({ name: "Canary", login: canaryLogin, password: canaryPassword }),
        tenantId: world.tenantA.id,
      }),
    );
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining("nothing was saved") });
    expect(JSON.stringify(result)).not.toContain(canaryPassword);
    const log = logged.join("\n");
    expect(log).toContain("action failed: SqliteError SQLITE_CONSTRAINT_TRIGGER: disk full");
    for (const leak of [canaryPassword, canaryLogin, "params", "insert into"]) expect(log).not.toContain(leak);
  });
});
