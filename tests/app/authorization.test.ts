import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, tenants, type User, users } from "@/db/schema";
import { type FormAction, isAuthorizedAction } from "@/lib/action";
import type { UserActor } from "@/lib/auth/actor";
import { createMailbox } from "@/lib/mailbox/save";
import { createUser } from "@/lib/users/queries";
import { appDb, PASSWORD, seedWorld, type World } from "../support/db";
import { mailboxForm, mailboxInput } from "../support/mailbox";
import { digestOf, signInAs } from "../support/session";

vi.mock("next/headers", async () => (await import("../support/session")).nextHeadersMock());
vi.mock("next/cache", () => ({ revalidatePath: vi.fn() }));

const { createTenantAction, renameTenantAction, saveTenantDefaultsAction } = await import(
  "@/app/(portal)/tenants/actions"
);
const { createUserAction, setUserDisabledAction } = await import("@/app/(portal)/users/actions");
const { saveMailboxAction, deleteMailboxAction, generateCertificateAction } = await import(
  "@/app/(portal)/tenants/[slug]/mailboxes/actions"
);
const TenantPage = (await import("@/app/(portal)/tenants/[slug]/page")).default;
const TenantTabPages = {
  settings: (await import("@/app/(portal)/tenants/[slug]/settings/page")).default,
  alerts: (await import("@/app/(portal)/tenants/[slug]/alerts/page")).default,
  "API keys": (await import("@/app/(portal)/tenants/[slug]/api-keys/page")).default,
  admins: (await import("@/app/(portal)/tenants/[slug]/admins/page")).default,
};
const MailboxPage = (await import("@/app/(portal)/tenants/[slug]/mailboxes/[mailboxId]/page")).default;
const NewMailboxPage = (await import("@/app/(portal)/tenants/[slug]/mailboxes/new/page")).default;
const HistoryPage = (await import("@/app/(portal)/tenants/[slug]/mailboxes/[mailboxId]/tests/page")).default;
const SetupPage = (await import("@/app/(portal)/tenants/[slug]/mailboxes/[mailboxId]/setup/page")).default;
const UsersPage = (await import("@/app/(portal)/users/page")).default;
const AuditPage = (await import("@/app/(portal)/audit/page")).default;

let db: Db;
let world: World;
let counter = 0;

beforeAll(async () => {
  db = await appDb();
  world = await seedWorld(db);
});

type Who = "super" | "adminA" | "anonymous" | "disabled" | "mustChange";
type Whose = "own" | "other";
type Outcome = "ok" | "404" | "signin" | "account";

function actorFor(who: Who): UserActor | null {
  return who === "super" ? world.root : who === "adminA" ? world.adminA : null;
}

function tenantOf(whose: Whose) {
  return whose === "own" ? world.tenantA : world.tenantB;
}

async function snapshot(): Promise<string> {
  const rows = [await db.select().from(tenants), await db.select().from(users), await db.select().from(auditLog)];
  return createHash("sha256").update(JSON.stringify(rows)).digest("hex");
}

function form(values: Record<string, string | number>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(values)) data.set(k, String(v));
  return data;
}

async function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const result = (await run()) as { ok?: boolean; error?: string } | undefined;
    if (result && result.ok === false) throw new Error(`refused with a message: ${result.error}`);
    return "ok";
  } catch (error) {
    const digest = digestOf(error);
    if (digest.includes("NEXT_REDIRECT") && digest.includes("/signin")) return "signin";
    if (digest.includes("NEXT_REDIRECT") && digest.includes("/account?change=required")) return "account";
    if (digest.includes("NEXT_REDIRECT")) return "ok";
    if (digest.includes("404")) return "404";
    throw error;
  }
}

const standIns = new Map<Who, Promise<User>>();

/** One disabled tenant admin, and one super-admin who must still replace a generated password. */
function standIn(who: "disabled" | "mustChange"): Promise<User> {
  if (!standIns.has(who)) {
    standIns.set(
      who,
      (async () => {
        const user = await createUser(db, world.root, {
          email: `${who.toLowerCase()}@alpha.example`,
          name: who,
          role: who === "disabled" ? "tenant_admin" : "super_admin",
          tenantId: who === "disabled" ? world.tenantA.id : undefined,
          password: PASSWORD,
        });
        const flag = who === "disabled" ? { disabled: true } : { mustChangePassword: true };
        await db.update(users).set(flag).where(eq(users.id, user.id));
        return user;
      })(),
    );
  }
  return standIns.get(who)!;
}

async function signIn(who: Who) {
  if (who === "disabled" || who === "mustChange") {
    await signInAs(await standIn(who));
    return;
  }
  await signInAs(actorFor(who));
}

type Case = {
  name: string;
  /** Fixtures the action needs, made before the "nothing changed" snapshot. */
  prepare?: (whose: Whose) => Promise<number>;
  run: (whose: Whose, prepared: number) => Promise<unknown>;
  expected: Record<Who, Record<Whose, Outcome>>;
};

const denyAnon = {
  anonymous: { own: "signin", other: "signin" },
  disabled: { own: "signin", other: "signin" },
  mustChange: { own: "account", other: "account" },
} as const;

const actionCases: Case[] = [
  {
    name: "createTenantAction",
    run: () => createTenantAction(null, form({ name: "New", slug: `new-${++counter}` })),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "404", other: "404" }, ...denyAnon },
  },
  {
    name: "renameTenantAction",
    run: (whose) => renameTenantAction(null, form({ tenantId: tenantOf(whose).id, name: `Renamed ${++counter}` })),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "404", other: "404" }, ...denyAnon },
  },
  {
    name: "createUserAction (tenant admin)",
    run: (whose) =>
      createUserAction(
        null,
        form({
          email: `u${++counter}@example.com`,
          name: "U",
          role: "tenant_admin",
          tenantId: tenantOf(whose).id,
          password: PASSWORD,
        }),
      ),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "createUserAction (super-admin)",
    run: () =>
      createUserAction(
        null,
        form({ email: `s${++counter}@example.com`, name: "S", role: "super_admin", tenantId: "", password: PASSWORD }),
      ),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "404", other: "404" }, ...denyAnon },
  },
  {
    name: "setUserDisabledAction",
    prepare: async (whose) =>
      (
        await createUser(db, null, {
          email: `t${++counter}@example.com`,
          name: "T",
          role: "tenant_admin",
          tenantId: tenantOf(whose).id,
          password: PASSWORD,
        })
      ).id,
    run: (_whose, userId) => setUserDisabledAction(null, form({ userId, disabled: "true" })),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
];

actionCases.push({
  name: "saveTenantDefaultsAction",
  run: (whose) =>
    saveTenantDefaultsAction(
      null,
      form({ tenantId: tenantOf(whose).id, azureClientId: randomUUID(), azureTenantId: randomUUID(), cloud: "global" }),
    ),
  expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
});

const makeMailbox = async (whose: Whose) =>
  (
    await createMailbox(
      db,
      world.root,
      mailboxInput(tenantOf(whose).id, { name: `Box ${++counter}`, password: "stored-password" }),
    )
  ).id;

actionCases.push(
  {
    name: "saveMailboxAction (create)",
    run: (whose) =>
      saveMailboxAction(null, form({ ...mailboxForm({ name: `New box ${++counter}` }), tenantId: tenantOf(whose).id })),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "saveMailboxAction (update)",
    prepare: makeMailbox,
    run: (whose, id) =>
      saveMailboxAction(
        null,
        form({
          ...mailboxForm({ name: `Edited ${++counter}`, password: "new-password" }),
          tenantId: tenantOf(whose).id,
          mailboxId: id,
          version: 1,
        }),
      ),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "saveMailboxAction (another tenant's mailbox under one's own tenant id)",
    prepare: makeMailbox,
    run: (_whose, id) =>
      saveMailboxAction(
        null,
        form({
          ...mailboxForm({ name: `Moved ${++counter}`, password: "new-password" }),
          tenantId: world.tenantA.id,
          mailboxId: id,
          version: 1,
        }),
      ),
    expected: { super: { own: "ok", other: "404" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "deleteMailboxAction",
    prepare: makeMailbox,
    run: (whose, id) => deleteMailboxAction(null, form({ tenantId: tenantOf(whose).id, mailboxId: id })),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "deleteMailboxAction (another tenant's mailbox under one's own tenant id)",
    prepare: makeMailbox,
    run: (_whose, id) => deleteMailboxAction(null, form({ tenantId: world.tenantA.id, mailboxId: id })),
    expected: { super: { own: "ok", other: "404" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
);

actionCases.push(
  {
    name: "generateCertificateAction",
    prepare: makeMailbox,
    run: (whose, id) =>
      generateCertificateAction(null, form({ tenantId: tenantOf(whose).id, mailboxId: id, version: 1 })),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "generateCertificateAction (another tenant's mailbox under one's own tenant id)",
    prepare: makeMailbox,
    run: (_whose, id) =>
      generateCertificateAction(null, form({ tenantId: world.tenantA.id, mailboxId: id, version: 1 })),
    expected: { super: { own: "ok", other: "404" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
);

const pageCases: Case[] = [
  {
    name: "mailbox page",
    prepare: makeMailbox,
    run: (whose, id) =>
      MailboxPage({
        params: Promise.resolve({ slug: tenantOf(whose).slug, mailboxId: String(id) }),
        searchParams: Promise.resolve({}),
      }),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "test history page",
    prepare: makeMailbox,
    run: (whose, id) =>
      HistoryPage({
        params: Promise.resolve({ slug: tenantOf(whose).slug, mailboxId: String(id) }),
        searchParams: Promise.resolve({}),
      }),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "setup checklist page",
    prepare: makeMailbox,
    run: (whose, id) => SetupPage({ params: Promise.resolve({ slug: tenantOf(whose).slug, mailboxId: String(id) }) }),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "another tenant's mailbox under one's own tenant's address",
    prepare: makeMailbox,
    run: (_whose, id) => SetupPage({ params: Promise.resolve({ slug: world.tenantA.slug, mailboxId: String(id) }) }),
    expected: { super: { own: "ok", other: "404" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "new mailbox page",
    run: (whose) => NewMailboxPage({ params: Promise.resolve({ slug: tenantOf(whose).slug }) }),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  {
    name: "tenant page",
    run: (whose) =>
      TenantPage({ params: Promise.resolve({ slug: tenantOf(whose).slug }), searchParams: Promise.resolve({}) }),
    expected: { super: { own: "ok", other: "ok" }, adminA: { own: "ok", other: "404" }, ...denyAnon },
  },
  ...Object.entries(TenantTabPages).map(([tab, Page]) => ({
    name: `tenant ${tab} tab`,
    run: (whose: Whose) => Page({ params: Promise.resolve({ slug: tenantOf(whose).slug }) }),
    expected: {
      super: { own: "ok", other: "ok" },
      adminA: { own: "ok", other: "404" },
      ...denyAnon,
    } as Case["expected"],
  })),
];

const cells = (cases: Case[]) =>
  cases.flatMap((c) =>
    (["super", "adminA", "anonymous", "disabled", "mustChange"] as Who[]).flatMap((who) =>
      (["own", "other"] as Whose[]).map((whose) => ({ ...c, who, whose, outcome: c.expected[who][whose] })),
    ),
  );

describe("authorization matrix: role × own/other tenant × action", () => {
  it.each(cells(actionCases))(
    "$name as $who on the $whose tenant → $outcome",
    async ({ prepare, run, who, whose, outcome }) => {
      await signIn(who);
      const prepared = prepare ? await prepare(whose) : 0;
      const before = await snapshot();
      expect(await outcomeOf(() => run(whose, prepared))).toBe(outcome);
      expect(
        (await snapshot()) === before,
        outcome === "ok" ? "the database should have changed" : "the database changed",
      ).toBe(outcome !== "ok");
    },
  );
});

describe("authorization matrix: role × own/other tenant × page", () => {
  it.each(cells(pageCases))(
    "$name as $who on the $whose tenant → $outcome",
    async ({ prepare, run, who, whose, outcome }) => {
      await signIn(who);
      const prepared = prepare ? await prepare(whose) : 0;
      expect(await outcomeOf(() => run(whose, prepared))).toBe(outcome);
    },
  );

  it.each(["anonymous", "disabled"] as Who[])("lists and audit pages send %s to sign-in", async (who) => {
    await signIn(who);
    expect(await outcomeOf(() => UsersPage({ searchParams: Promise.resolve({}) }))).toBe("signin");
    expect(await outcomeOf(() => AuditPage({ searchParams: Promise.resolve({}) }))).toBe("signin");
  });

  it("a session older than 8 hours is signed out", async () => {
    await signInAs(world.adminA, { signedInAt: Date.now() - 8 * 3600 * 1000 - 1000 });
    expect(await outcomeOf(() => UsersPage({ searchParams: Promise.resolve({}) }))).toBe("signin");
  });
});

describe("every server action goes through authorizedAction", () => {
  const files = listFiles(path.join(process.cwd(), "app")).filter((file) =>
    /^\s*["']use server["']/.test(fs.readFileSync(file, "utf8")),
  );

  it("finds the action modules", () => {
    expect(files.map((f) => path.relative(process.cwd(), f)).sort()).toEqual(
      expect.arrayContaining(["app/(portal)/tenants/actions.ts", "app/(portal)/users/actions.ts"]),
    );
  });

  it.each(files.map((f) => [path.relative(process.cwd(), f), f]))(
    "%s exports only wrapped actions",
    async (_name, file) => {
      const exports = Object.entries(await import(/* @vite-ignore */ file));
      expect(exports.length).toBeGreaterThan(0);
      for (const [name, value] of exports)
        expect(isAuthorizedAction(value), `${name} is not wrapped by authorizedAction`).toBe(true);
    },
  );

  it("recognises an unwrapped function", () => {
    const bare = async () => ({ ok: true }) as const;
    expect(isAuthorizedAction(bare)).toBe(false);
    expect(isAuthorizedAction(createTenantAction satisfies FormAction)).toBe(true);
  });
});

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
    );
}
