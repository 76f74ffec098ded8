import Database from "better-sqlite3";
import { getTableName, is, sql, Table } from "drizzle-orm";
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import type { drizzle as drizzlePostgres } from "drizzle-orm/node-postgres";
import type { PgTable } from "drizzle-orm/pg-core";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { type Db, migrateDatabase, migrationState, openPostgres } from "@/db/client";
import * as pgTables from "@/db/schema.pg";
import * as sqliteTables from "@/db/schema.sqlite";
import { isPostgresUrl } from "@/db/url";
import { describeError } from "@/lib/errors";

// npm run db:copy -- --from file:./data/navigator-mail.db --to postgres://user:password@host:5432/database
// Copies an SQLite install into an empty PostgreSQL database: every row of every table, sealed values as
// they are (the same SECRETS_KEYS open them), in one transaction. Exit code 0 when copied, 1 when refused.

const BATCH = 500;

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function fail(message: string): never {
  console.error(`db:copy: ${message}`);
  process.exit(1);
}

function tablesOf(module: Record<string, unknown>): Map<string, Table> {
  const tables = Object.values(module).filter((value): value is Table => is(value, Table));
  return new Map(tables.map((table) => [getTableName(table), table]));
}

/** The tables' names, each after the tables it refers to. */
function referencesFirst(tables: Map<string, Table>): string[] {
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name)) return;
    const { foreignKeys } = getTableConfig(tables.get(name) as SQLiteTable);
    for (const key of foreignKeys) {
      const referenced = getTableName(key.reference().foreignTable);
      if (referenced !== name) visit(referenced);
    }
    order.push(name);
  };
  for (const name of [...tables.keys()].sort()) visit(name);
  return order;
}

const from = argument("from");
const to = argument("to");
if (!from?.startsWith("file:") || !to || !isPostgresUrl(to)) {
  fail("usage: npm run db:copy -- --from file:<SQLite file> --to postgres://user:password@host:port/database");
}
if (!URL.canParse(to)) fail("--to is not a valid postgres:// URL");

const source = new Database(from.slice("file:".length), { readonly: true, fileMustExist: true });
const sourceDb = drizzleSqlite(source);
const target = openPostgres(to, 2);
try {
  const state = await migrationState(sourceDb as unknown as Db);
  if (state.applied < state.expected) {
    fail(`the SQLite database has ${state.expected - state.applied} migrations to apply first: npm run db:migrate`);
  }
  await migrateDatabase(target);
  const postgres = target as unknown as ReturnType<typeof drizzlePostgres>;
  const sourceTables = tablesOf(sqliteTables);
  const targetTables = tablesOf(pgTables);
  const counts: [string, number][] = [];
  await postgres.transaction(async (tx) => {
    for (const [name, table] of targetTables) {
      const rows = await tx.execute(sql`SELECT count(*)::int AS n FROM ${table}`);
      if ((rows.rows[0] as { n: number }).n > 0)
        fail(`the target is not empty: ${name} has rows. Copy into an empty database.`);
    }
    for (const name of referencesFirst(sourceTables)) {
      const table = sourceTables.get(name)!;
      const into = targetTables.get(name);
      if (!into) fail(`PostgreSQL's schema has no table ${name}`);
      const rows = await sourceDb.select().from(table as SQLiteTable);
      for (let i = 0; i < rows.length; i += BATCH) {
        await tx.insert(into as PgTable).values(rows.slice(i, i + BATCH) as never);
      }
      const copied = await tx.execute(sql`SELECT count(*)::int AS n FROM ${into}`);
      const n = (copied.rows[0] as { n: number }).n;
      if (n !== rows.length) throw new Error(`${name}: ${rows.length} rows read, ${n} written`);
      counts.push([name, n]);
      // Ids were copied as they were: new rows continue after the highest.
      if ("id" in (into as unknown as Record<string, unknown>) && (await identity(tx, name))) {
        await tx.execute(
          sql`SELECT setval(pg_get_serial_sequence(${name}, 'id'), coalesce(max(id), 0) + 1, false) FROM ${into}`,
        );
      }
    }
  });
  for (const [name, n] of counts) console.log(`${name.padEnd(20)} ${n}`);
  console.log(`Copied ${counts.reduce((sum, [, n]) => sum + n, 0)} rows into PostgreSQL.`);
} catch (error) {
  fail(describeError(error));
} finally {
  source.close();
  await (target.$client as unknown as { end(): Promise<void> }).end();
}

async function identity(
  tx: { execute: (query: ReturnType<typeof sql>) => Promise<{ rows: unknown[] }> },
  name: string,
) {
  const found = await tx.execute(
    sql`SELECT 1 FROM information_schema.columns WHERE table_name = ${name} AND column_name = 'id' AND is_identity = 'YES'`,
  );
  return found.rows.length > 0;
}
