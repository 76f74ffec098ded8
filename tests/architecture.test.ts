import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

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
