import type { Pool, PoolClient } from 'pg';

/** How the transaction starts: `BEGIN` with these PostgreSQL transaction modes; plain `BEGIN` (READ COMMITTED, read-write) by default. */
export interface TransactionOptions {
  isolation?: 'REPEATABLE READ';
  readOnly?: boolean;
}

/**
 * Runs `work` in one transaction on a client of `pool`: COMMIT when it
 * resolves, ROLLBACK when it throws (the error is rethrown). A state change
 * and its audit record go through one call, so neither commits alone.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(beginStatement(options));
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function beginStatement({ isolation, readOnly }: TransactionOptions): string {
  return ['BEGIN', isolation && `ISOLATION LEVEL ${isolation}`, readOnly && 'READ ONLY'].filter(Boolean).join(' ');
}
