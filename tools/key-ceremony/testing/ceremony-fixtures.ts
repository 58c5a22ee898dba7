/**
 * Test support for the key-ceremony specs (not compiled into dist): operators
 * with API tokens, as an administrator would create them.
 */
import { Pool } from 'pg';
import { apiTokenDigest, newApiToken } from '../../../apps/ca-api/src/auth/api-token';
import { Operator, operatorKey } from '../operators';

export interface TestOperator extends Operator {
  token: string;
}

/** Inserts an active staff member with `role` and one API token; returns it with the token in clear. */
export async function createStaffWithToken(pool: Pool, name: string, role = 'operator'): Promise<TestOperator> {
  const staff = await pool.query<{ id: string }>(`INSERT INTO staff_member (name, role) VALUES ($1, $2) RETURNING id`, [name, role]);
  const token = newApiToken();
  await pool.query(`INSERT INTO api_credential (staff_id, kind, secret_hash, description) VALUES ($1, 'token', $2, 'key ceremony test')`, [
    staff.rows[0].id,
    apiTokenDigest(token),
  ]);
  return { staffId: staff.rows[0].id, name, key: operatorKey(staff.rows[0].id), token };
}

/** Audit records, oldest first. */
export async function auditRecords(pool: Pool): Promise<Array<{ operation: string; actor_id: string | null; subject_kind: string | null; subject_id: string | null; after: Record<string, unknown> | null; detail: Record<string, unknown> }>> {
  const { rows } = await pool.query(`SELECT operation, actor_id, subject_kind, subject_id, after, detail FROM audit_log ORDER BY id`);
  return rows;
}

/**
 * Ends a pool and waits until every connection has really closed. pg's
 * Pool.end() resolves once it has *asked* its idle clients to end, so a
 * DROP DATABASE ... WITH (FORCE) right after it can still terminate them,
 * and the pool would then emit an unhandled 'error'.
 */
export async function closePool(pool: Pool): Promise<void> {
  const open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    let removed = 0;
    if (open === 0) resolve();
    pool.on('remove', () => {
      if (++removed >= open) resolve();
    });
  });
  await pool.end();
  await closed;
}
