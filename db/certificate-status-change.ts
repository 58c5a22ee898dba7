/**
 * The contract between ca-api (which changes certificate statuses) and the
 * OCSP responders and worker (which answer for them), issue 6.
 *
 * ca-api calls {@link announceStatusChange} INSIDE the transaction that
 * changes a certificate's status (issuance to valid/on_hold, suspension,
 * resumption, revocation), AFTER its `UPDATE certificate SET status = ...`,
 * once per certificate. In that same transaction it:
 *
 *  1. locks the certificate row (`FOR UPDATE`), so a pre-signing worker that
 *     read the old status (`FOR SHARE`) finishes first and its stale row is
 *     deleted by step 2, or starts after the commit and reads the new status;
 *  2. deletes the stored pre-signed responses of the certificate
 *     (`ocsp_response`), so no responder can load the old answer from
 *     PostgreSQL once the transaction commits;
 *  3. `pg_notify('certificate_status', payload)`, delivered to every
 *     listening responder when (and only if) the transaction commits; the
 *     payload carries the new status, so a responder answers correctly at
 *     once, without reading a read replica that may lag behind;
 *  4. when graphile-worker's schema is installed, enqueues the
 *     `ocsp-refresh` job with job key `ocsp-sign:<certificate id>` (enqueued
 *     on commit like any row; several changes merge into one job), which
 *     pre-signs and stores the new response.
 *
 * Payload (JSON, well under PostgreSQL's 8000-byte NOTIFY limit):
 * `{ "id": <certificate uuid>, "ca": <certificate_authority uuid>,
 *    "serial": <hex of the DER INTEGER content>, "status": <certificate.status>,
 *    "revokedAt": <ISO 8601 or null>, "reason": <CRLReason code or null> }`.
 *
 * A rolled-back transaction does nothing: NOTIFY, DELETE and the job all
 * vanish with it.
 */

/** Anything with `query(sql, params)`: a pg Client or Pool, a TypeORM EntityManager or QueryRunner. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** The NOTIFY channel OCSP responders LISTEN on. */
export const CERTIFICATE_STATUS_CHANNEL = 'certificate_status';
/** The graphile-worker task that (re-)signs stored OCSP responses. */
export const OCSP_REFRESH_TASK = 'ocsp-refresh';

/** The NOTIFY payload, as the responder reads it. */
export interface CertificateStatusNotice {
  id: string;
  ca: string;
  serial: string;
  status: string;
  revokedAt: string | null;
  reason: number | null;
}

/** Announces the status change of one certificate to OCSP responders and the worker (see the file comment). */
export async function announceStatusChange(queryable: Queryable, certificateId: string): Promise<void> {
  const locked = rowsOf<{ id: string }>(
    await queryable.query(
      `WITH target AS (SELECT id, ca_id, serial, status, revoked_at, revocation_reason FROM certificate WHERE id = $1 FOR UPDATE),
            dropped AS (DELETE FROM ocsp_response r USING target t WHERE r.certificate_id = t.id)
       SELECT t.id, pg_notify($2, json_build_object(
                'id', t.id, 'ca', t.ca_id, 'serial', encode(t.serial, 'hex'), 'status', t.status,
                'revokedAt', to_char(t.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'reason', t.revocation_reason)::text)
         FROM target t`,
      [certificateId, CERTIFICATE_STATUS_CHANNEL],
    ),
  );
  if (locked.length === 0) throw new Error(`announceStatusChange: no certificate ${certificateId}`);
  const worker = rowsOf<{ installed: boolean }>(
    await queryable.query(`SELECT to_regprocedure('graphile_worker.add_job(text,json,text,timestamptz,integer,text,integer,text[],text)') IS NOT NULL AS installed`),
  );
  if (worker[0]?.installed) {
    await queryable.query(
      `SELECT graphile_worker.add_job($1, json_build_object('certificateIds', json_build_array($2::text)), job_key := $3, max_attempts := 10)`,
      [OCSP_REFRESH_TASK, certificateId, `ocsp-sign:${certificateId}`],
    );
  }
}

/** Parses a NOTIFY payload; undefined when it is not one of ours. */
export function parseCertificateStatusNotice(payload: string | undefined): CertificateStatusNotice | undefined {
  if (!payload) return undefined;
  try {
    const value = JSON.parse(payload) as Partial<CertificateStatusNotice>;
    if (typeof value.id !== 'string' || typeof value.ca !== 'string' || typeof value.serial !== 'string') return undefined;
    if (typeof value.status !== 'string' || !/^[0-9a-f]+$/.test(value.serial)) return undefined;
    return {
      id: value.id,
      ca: value.ca,
      serial: value.serial,
      status: value.status,
      revokedAt: typeof value.revokedAt === 'string' ? value.revokedAt : null,
      reason: typeof value.reason === 'number' ? value.reason : null,
    };
  } catch {
    return undefined;
  }
}

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | undefined)?.rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}
