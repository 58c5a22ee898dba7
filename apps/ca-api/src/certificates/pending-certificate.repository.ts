import { appendAudit, queryRows, type Queryable } from '@moica/db';

/**
 * Seconds after which a certificate still 'pending' is a leftover of an
 * issuance that stopped between recording and completing it (a crash, a
 * kill, a stall). Signing takes well under a second: a younger pending row may
 * be another ca-api instance's issuance in flight (docs/operations.md: two or
 * more instances, rolling restarts) and is never touched.
 */
export const PENDING_LEFTOVER_SECONDS = 120;

/** Why a leftover was abandoned, as its audit record says. */
export const LEFTOVER_REASON = 'left pending by a process that stopped between recording and completing issuance';

/**
 * Abandons these pending certificates (never signed, or signed and never
 * released) with one audit record, in the caller's transaction. Rows no
 * longer pending are left as they are. Returns the ids abandoned.
 */
export async function abandonPendingCertificates(db: Queryable, ids: string[], now: Date, why: string): Promise<string[]> {
  const rows = await queryRows<{ id: string; serial: Buffer }>(
    db,
    // A CTE so that pg and TypeORM both return the rows themselves (TypeORM wraps a bare UPDATE's in [rows, count]).
    `WITH abandoned AS (
       UPDATE certificate SET status = 'abandoned', status_changed_at = $2 WHERE id = ANY($1) AND status = 'pending' RETURNING id, serial
     )
     SELECT id, serial FROM abandoned ORDER BY id`,
    [ids, now],
  );
  return audit(db, rows, now, why);
}

/**
 * Abandons every certificate pending for more than `PENDING_LEFTOVER_SECONDS`
 * at `now`, with one audit record, in the caller's transaction; returns the
 * ids. Safe with several callers at once (ca-api instances starting, workers
 * sweeping): a row is abandoned by one of them only, and a row locked by an
 * issuance completing right now is skipped (that transaction decides it).
 */
export async function abandonPendingLeftovers(db: Queryable, now: Date): Promise<string[]> {
  const recordedBefore = new Date(now.getTime() - PENDING_LEFTOVER_SECONDS * 1000);
  const rows = await queryRows<{ id: string; serial: Buffer }>(
    db,
    `WITH leftover AS (
       SELECT id FROM certificate WHERE status = 'pending' AND created_at <= $1 ORDER BY id FOR UPDATE SKIP LOCKED
     ), abandoned AS (
       UPDATE certificate c SET status = 'abandoned', status_changed_at = $2 FROM leftover WHERE c.id = leftover.id RETURNING c.id, c.serial
     )
     SELECT id, serial FROM abandoned ORDER BY id`,
    [recordedBefore, now],
  );
  return audit(db, rows, now, LEFTOVER_REASON);
}

async function audit(db: Queryable, rows: Array<{ id: string; serial: Buffer }>, now: Date, why: string): Promise<string[]> {
  if (rows.length === 0) return [];
  await appendAudit(db, {
    at: now,
    actorKind: 'system',
    operation: 'certificate.abandoned',
    subjectKind: 'certificate',
    subjectId: rows.map((row) => row.id).join(','),
    after: { status: 'abandoned', serials: rows.map((row) => row.serial.toString('hex')) },
    detail: { why },
  });
  return rows.map((row) => row.id);
}
