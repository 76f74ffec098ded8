import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DATABASE_FREE_IMPORTS, DATABASE_FREE_TESTS } from "./support/database-free";

const root = process.cwd();
const IMPORT =
  /^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Where an import lands inside the project, as a path from the root; null for packages and Node's modules. */
function target(file: string, specifier: string): string | null {
  if (specifier.startsWith("@/")) return specifier.slice(2);
  if (specifier.startsWith(".")) return path.relative(root, path.resolve(path.dirname(file), specifier));
  return null;
}

describe("the tests the PostgreSQL run leaves out", () => {
  it.each(DATABASE_FREE_TESTS)("%s imports nothing that could open a database", (file) => {
    const reached = importsOf(path.join(root, file))
      .map((specifier) => target(path.join(root, file), specifier))
      .filter((to): to is string => to !== null && !DATABASE_FREE_IMPORTS.some((allowed) => to.startsWith(allowed)));
    expect(reached).toEqual([]);
  });

  it("are the only test files that never name a database", () => {
    const opensNone = sourceFiles(path.join(root, "tests"))
      .filter((file) => file.endsWith(".test.ts"))
      .map((file) => path.relative(root, file))
      .filter((file) =>
        importsOf(path.join(root, file)).every((specifier) => {
          const to = target(path.join(root, file), specifier);
          return to === null || DATABASE_FREE_IMPORTS.some((allowed) => to.startsWith(allowed));
        }),
      );
    // Every such file is listed (architecture.test.ts itself reads files only, and runs in a moment).
    expect(
      opensNone.filter((file) => file !== "tests/architecture.test.ts" && !DATABASE_FREE_TESTS.includes(file)),
    ).toEqual([]);
  });
});

describe("the layers", () => {
  const engine = sourceFiles(path.join(root, "lib/engine"));

  it("the engine is there and reads its own files", () => {
    expect(engine.map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(["run-checks.ts", "diagnoses.ts", "network-guard.ts"]),
    );
  });

  it.each(["lib/auth", "lib/audit", "lib/service", "lib/mailbox", "db", "app"])(
    "no engine file imports %s",
    (forbidden) => {
      const offending = engine.flatMap((file) =>
        importsOf(file)
          .filter((specifier) => {
            const to = target(file, specifier);
            return to !== null && (to === forbidden || to.startsWith(`${forbidden}/`));
          })
          .map((specifier) => `${path.relative(root, file)} imports ${specifier}`),
      );
      expect(offending).toEqual([]);
    },
  );

  it("engine files import only each other and packages", () => {
    const outside = engine.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          const to = target(file, specifier);
          return to !== null && !to.startsWith("lib/engine/");
        })
        .map((specifier) => `${path.relative(root, file)} imports ${specifier}`),
    );
    expect(outside).toEqual([]);
  });

  it("lib never imports app, and the crypto module stays pure", () => {
    const lib = sourceFiles(path.join(root, "lib"));
    const upward = lib.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          const to = target(file, specifier) ?? "";
          const fromCrypto = path.relative(root, file).startsWith("lib/crypto/");
          return (
            to.startsWith("app/") || (fromCrypto && to !== "" && !to.startsWith("lib/crypto/") && to !== "lib/env")
          );
        })
        .map((specifier) => `${path.relative(root, file)} imports ${specifier}`),
    );
    expect(upward).toEqual([]);
  });
});

/** The unit a lib file belongs to: its folder under lib, or the file itself when it sits in lib directly. */
function libUnit(file: string): string {
  const relative = path.relative(root, file);
  const parts = relative.split(path.sep);
  return parts.length > 2 ? parts.slice(0, 2).join("/") : relative.replace(/\.tsx?$/, "");
}

describe("the folders", () => {
  const lib = sourceFiles(path.join(root, "lib"));
  const edges = new Map<string, Map<string, string>>();
  for (const file of lib) {
    for (const specifier of importsOf(file)) {
      const to = target(file, specifier);
      if (!to?.startsWith("lib/")) continue;
      const from = libUnit(file);
      const toUnit = libUnit(path.join(root, to.endsWith(".ts") || to.endsWith(".tsx") ? to : `${to}.ts`));
      if (from === toUnit) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      edges.get(from)!.set(toUnit, `${path.relative(root, file)} imports ${specifier}`);
    }
  }

  it("no two folders of lib import each other", () => {
    const pairs: string[] = [];
    for (const [from, targets] of edges) {
      for (const [to, example] of targets) {
        const back = edges.get(to)?.get(from);
        if (back && from < to) pairs.push(`${from} ↔ ${to}: ${example}; ${back}`);
      }
    }
    expect(pairs).toEqual([]);
  });

  it("the services do not reach into the API: lib/api builds on lib/service, never the other way", () => {
    const upward = [...(edges.get("lib/service") ?? new Map<string, string>())]
      .filter(([to]) => to === "lib/api")
      .map(([, example]) => example);
    expect(upward).toEqual([]);
  });
});

describe("one Next.js runtime", () => {
  const everything = ["app", "lib", "db", "scripts", "bench", "tests"].flatMap((dir) =>
    sourceFiles(path.join(root, dir)),
  );

  it("imports no second React (Preact or its compatibility layer)", () => {
    const preact = everything.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier === "preact" || specifier.startsWith("preact/"))
        .map((specifier) => `${path.relative(root, file)} imports ${specifier}`),
    );
    const packageJson = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const declared = Object.keys({ ...packageJson.dependencies, ...packageJson.devDependencies });
    expect([...preact, ...declared.filter((name) => name.startsWith("preact"))]).toEqual([]);
  });

  it("replaces no next/* module with a stand-in", () => {
    const configs = ["next.config.js", "tsconfig.json", "vitest.config.ts", "package.json"];
    const aliases = configs.flatMap((config) => {
      const text = fs.readFileSync(path.join(root, config), "utf8");
      return [...text.matchAll(/["'`]next\/[\w-]+["'`]\s*:|find:\s*\/\^?next\\\//g)].map((m) => `${config}: ${m[0]}`);
    });
    expect(aliases).toEqual([]);
  });

  it("answers /api/v1 only from route handlers under app/api/v1", () => {
    const routes = sourceFiles(path.join(root, "app")).filter((file) => /\/(route|page)\.tsx?$/.test(file));
    const outside = routes.filter((file) => {
      const relative = path.relative(path.join(root, "app"), path.dirname(file)).split(path.sep);
      // Route groups "(name)" add nothing to the address; the rest does.
      const address = `/${relative.filter((segment) => !/^\(.*\)$/.test(segment)).join("/")}`;
      return address.startsWith("/api/v1") && !path.relative(root, file).startsWith("app/api/v1/");
    });
    // Nothing in front of Next.js (the custom server, the proxy, a rewrite) answers or redirects it either.
    const server = ["scripts/serve.mjs", "next.config.js"].filter((file) =>
      /api\/v1|rewrites|redirects/.test(fs.readFileSync(path.join(root, file), "utf8")),
    );
    const proxy = fs.readFileSync(path.join(root, "proxy.ts"), "utf8");
    const proxyAnswers = /NextResponse\.(rewrite|redirect|json)|new Response/.test(proxy) ? ["proxy.ts"] : [];
    expect([...outside, ...server, ...proxyAnswers].map((file) => path.relative(root, file))).toEqual([]);
  });
});

describe("the data layer", () => {
  const code = ["lib", "app", "scripts"].flatMap((dir) => sourceFiles(path.join(root, dir)));

  it("runs every query asynchronously, so one code path serves every database driver", () => {
    // better-sqlite3's synchronous calls (`.all()`, `.get()`, `.run()`, `db.transaction(...)`, raw statements)
    // and its `changes` count exist on no other driver; a query is awaited, a write reports its rows with
    // `.returning()`, and a transaction goes through `transaction()` in db/client.
    const sync = code.flatMap((file) =>
      fs
        .readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          /\.(all|get|run)\(\)|\b(db|tx)\.transaction\(|\$client\.transaction\(|\.changes\s*(?:[=!]==?|[<>]=?)\s*\d|\$client\.(prepare|exec)\(/.test(
            line,
          )
            ? [`${path.relative(root, file)}:${i + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(sync).toEqual([]);
  });
});
