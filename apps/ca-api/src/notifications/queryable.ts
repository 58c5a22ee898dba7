/**
 * Anything that runs SQL with positional parameters: a pg Pool, a PoolClient
 * inside a transaction, or a TypeORM QueryRunner / EntityManager (whose
 * `query` resolves to the rows themselves rather than `{ rows }`).
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** The rows of a query result, whichever client ran it. */
export async function queryRows<T>(db: Queryable, text: string, values: unknown[] = []): Promise<T[]> {
  const result = await db.query(text, values);
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
