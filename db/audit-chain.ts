import { EntityManager } from 'typeorm';

/** What one audit record says: who, which office, for whom, delegate if any, what, before/after. */
export interface AuditRecord {
  at: Date;
  actorKind: 'clerk' | 'supervisor' | 'operator' | 'auditor' | 'holder' | 'system' | 'household-registration' | 'court';
  actorId?: string | null;
  officeId?: string | null;
  operation: string;
  subjectKind?: string | null;
  subjectId?: string | null;
  delegate?: Record<string, unknown> | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  detail?: Record<string, unknown>;
}

/** Anything that can run a parameterised query: a pg Pool/Client or a TypeORM EntityManager. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Rows of a query, whether the runner returns them bare (TypeORM) or in a result (pg). */
export async function queryRows<T>(db: Queryable, sql: string, params?: unknown[]): Promise<T[]> {
  const result = (await db.query(sql, params)) as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/**
 * Appends one record in the caller's transaction. The database chains it
 * (trigger audit_log_chain): the caller cannot choose id, prev_hash or hash.
 * Call it last in the transaction: the chain head (audit_chain_head) stays
 * row-locked until commit, so every other append waits. In a REPEATABLE READ
 * transaction that began before another append committed, it fails with a
 * serialization failure (40001) rather than link to a stale head.
 */
export async function appendAudit(manager: EntityManager | Queryable, record: AuditRecord): Promise<string> {
  const rows = await queryRows<{ id: string }>(
    manager,
    `INSERT INTO audit_log (at, actor_kind, actor_id, office_id, operation, subject_kind, subject_id,
                            delegate, before, after, detail, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '\\x', '\\x') RETURNING id`,
    [
      record.at,
      record.actorKind,
      record.actorId ?? null,
      record.officeId ?? null,
      record.operation,
      record.subjectKind ?? null,
      record.subjectId ?? null,
      record.delegate ? JSON.stringify(record.delegate) : null,
      record.before ? JSON.stringify(record.before) : null,
      record.after ? JSON.stringify(record.after) : null,
      JSON.stringify(record.detail ?? {}),
    ],
  );
  return rows[0].id;
}

export type AuditChainVerdict =
  | { intact: true; checked: number; lastId: string | null }
  | { intact: false; checked: number; brokenAt: string; problem: 'hash-mismatch' | 'link-mismatch' };

/**
 * Recomputes the hash chain over [fromId, toId] (all rows by default) in
 * batches, and says where it first breaks: a row whose content no longer
 * matches its hash (edited), or whose prev_hash is not the hash of the row
 * before it (a row removed or inserted out of band).
 */
export async function verifyAuditChain(
  db: Queryable,
  range: { fromId?: string; toId?: string; batchSize?: number } = {},
): Promise<AuditChainVerdict> {
  const batchSize = range.batchSize ?? 10_000;
  let checked = 0;
  let lastId: string | null = null;
  let expectedPrev: Buffer | null = null;
  if (range.fromId) {
    const before = await queryRows<{ hash: Buffer }>(db, `SELECT hash FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT 1`, [
      range.fromId,
    ]);
    expectedPrev = before[0]?.hash ?? Buffer.alloc(0);
  } else {
    expectedPrev = Buffer.alloc(0);
  }
  let cursor = range.fromId ? String(BigInt(range.fromId) - 1n) : '0';
  for (;;) {
    const rows = await queryRows<{ id: string; prev_hash: Buffer; hash: Buffer; hash_ok: boolean }>(
      db,
      `SELECT a.id::text AS id, a.prev_hash, a.hash, a.hash = audit_log_digest(a.prev_hash, a) AS hash_ok
         FROM audit_log a
        WHERE a.id > $1 AND ($2::bigint IS NULL OR a.id <= $2::bigint)
        ORDER BY a.id LIMIT $3`,
      [cursor, range.toId ?? null, batchSize],
    );
    for (const row of rows) {
      if (!row.prev_hash.equals(expectedPrev)) return { intact: false, checked, brokenAt: row.id, problem: 'link-mismatch' };
      if (!row.hash_ok) return { intact: false, checked, brokenAt: row.id, problem: 'hash-mismatch' };
      expectedPrev = row.hash;
      lastId = row.id;
      checked++;
    }
    if (rows.length < batchSize) return { intact: true, checked, lastId };
    cursor = rows[rows.length - 1].id;
  }
}
