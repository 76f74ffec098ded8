/** The database URL names PostgreSQL (postgres:// or postgresql://); anything else is a SQLite file. */
export function isPostgresUrl(url: string | undefined): boolean {
  return /^postgres(?:ql)?:\/\//i.test(url ?? "");
}

/** Whether this process runs on PostgreSQL: fixed by DATABASE_URL when the process starts. */
export function onPostgres(): boolean {
  return isPostgresUrl(process.env.DATABASE_URL);
}
