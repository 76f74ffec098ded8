import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getTableName, is, Table } from "drizzle-orm";
import { type PgColumn, type PgTable, getTableConfig as pgTableConfig } from "drizzle-orm/pg-core";
import { type SQLiteColumn, type SQLiteTable, getTableConfig as sqliteTableConfig } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as pg from "@/db/schema.pg";
import * as sqlite from "@/db/schema.sqlite";

/** What a column holds, in words both dialects share: a time is milliseconds in both databases. */
function kindOf(column: SQLiteColumn | PgColumn): string {
  const type = column.getSQLType().toLowerCase();
  const byType: Record<string, string> = {
    SQLiteTimestamp: "time",
    SQLiteBoolean: "boolean",
    SQLiteTextJson: "json",
    SQLiteInteger: "integer",
    SQLiteText: "text",
    PgBoolean: "boolean",
    PgJsonb: "json",
    PgInteger: "integer",
    PgText: "text",
  };
  if (column.columnType === "PgCustomColumn" && type === "bigint") return "time";
  return byType[column.columnType] ?? `unknown ${column.columnType} ${type}`;
}

type Shape = {
  columns: Record<string, unknown>;
  primaryKey: string[];
  indexes: Record<string, unknown>;
  foreignKeys: string[];
  checks: string[];
};

function columnShape(column: SQLiteColumn | PgColumn, generatedId: boolean) {
  return {
    kind: kindOf(column),
    notNull: column.notNull,
    default: column.default === undefined ? null : String(column.default),
    // A function default ($defaultFn) runs in the portal, not the database: the same on both.
    defaultFn: column.defaultFn !== undefined,
    unique: column.isUnique ? (column.uniqueName ?? true) : false,
    enum: column.enumValues ?? null,
    generatedId,
  };
}

/** The parts of a table's configuration both dialects share, with how each says "generated id". */
type TableConfig = {
  columns: (SQLiteColumn | PgColumn)[];
  primaryKeys: { columns: { name: string }[] }[];
  indexes: { config: { name: string; unique: boolean; columns: unknown[] } }[];
  foreignKeys: {
    onDelete?: string;
    reference(): { columns: { name: string }[]; foreignColumns: { name: string }[]; foreignTable: Table };
  }[];
  checks: { name: string }[];
};

function shapeOf(config: TableConfig, generatedId: (column: SQLiteColumn | PgColumn) => boolean): Shape {
  const pkColumns = config.columns.filter((c) => c.primary).map((c) => c.name);
  const names = (columns: { name: string }[]) => columns.map((c) => c.name).join(",");
  return {
    columns: Object.fromEntries(config.columns.map((c) => [c.name, columnShape(c, c.primary && generatedId(c))])),
    primaryKey: [...pkColumns, ...config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name))],
    indexes: Object.fromEntries(
      config.indexes.map((i) => [
        i.config.name,
        { unique: i.config.unique, columns: i.config.columns.map((c) => (c as { name: string }).name) },
      ]),
    ),
    foreignKeys: config.foreignKeys.map((fk) => {
      const ref = fk.reference();
      return `${names(ref.columns)} -> ${getTableName(ref.foreignTable)}(${names(ref.foreignColumns)}) on delete ${fk.onDelete ?? "no action"}`;
    }),
    checks: config.checks.map((c) => c.name),
  };
}

const sqliteShape = (table: SQLiteTable) =>
  shapeOf(
    sqliteTableConfig(table) as unknown as TableConfig,
    (c) => (c as { autoIncrement?: boolean }).autoIncrement === true,
  );

const pgShape = (table: PgTable) =>
  shapeOf(pgTableConfig(table) as unknown as TableConfig, (c) => (c as PgColumn).generatedIdentity !== undefined);

const tablesOf = (module: Record<string, unknown>) =>
  Object.fromEntries(
    Object.values(module)
      .filter((value): value is Table => is(value, Table))
      .map((table) => [getTableName(table), table]),
  );

describe("the two schemas", () => {
  const sqliteTables = tablesOf(sqlite);
  const pgTables = tablesOf(pg);

  it("have the same tables", () => {
    expect(Object.keys(pgTables).sort()).toEqual(Object.keys(sqliteTables).sort());
    expect(Object.keys(sqliteTables).length).toBeGreaterThan(15);
  });

  it.each(Object.keys(sqliteTables))(
    "agree on %s: columns, types, nullability, defaults, keys, indexes, checks",
    (name) => {
      expect(pgShape(pgTables[name] as PgTable)).toEqual(sqliteShape(sqliteTables[name] as SQLiteTable));
    },
  );
});

describe("the migrations", () => {
  // drizzle-kit compares each schema with its migrations' last snapshot: a change without its migration
  // would make it write a new one.
  it.each([
    ["sqlite", "db/schema.sqlite.ts", "db/migrations"],
    ["postgresql", "db/schema.pg.ts", "db/migrations-pg"],
  ])("for %s are up to date with the schema", (dialect, schema, migrations) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "navigator-migrations-"));
    try {
      fs.cpSync(migrations, out, { recursive: true });
      const before = fs.readdirSync(out).sort();
      const generated = spawnSync(
        "npx",
        // drizzle-kit reads --out relative to the working folder, whatever its form.
        [
          "drizzle-kit",
          "generate",
          "--dialect",
          dialect,
          "--schema",
          schema,
          "--out",
          path.relative(process.cwd(), out),
        ],
        { encoding: "utf8" },
      );
      expect(generated.status, generated.stderr).toBe(0);
      expect(generated.stdout).toContain("No schema changes");
      expect(fs.readdirSync(out).sort()).toEqual(before);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
