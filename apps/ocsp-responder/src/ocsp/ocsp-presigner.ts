import type { Pool } from 'pg';
import { inTransaction } from '@moica/db';
import { encodeCertId, encodeSingleResponse } from '@moica/pki';
import { ANSWERED_STATUSES, ocspStatusOf } from './certificate-status';
import type { OcspSigningIdentity } from './ocsp-signing-identity';

/**
 * Pre-produced OCSP responses (RFC 5019 §2.2, §6.2): one signed response per
 * certificate for a SHA-1 CertID (RFC 5019 §2.1.1: what relying parties
 * send), stored in `ocsp_response` and served as is until its nextUpdate.
 * SHA-256 CertIDs are signed on demand by the responder (docs/ocsp.md).
 *
 * Used by the worker (`ocsp-refresh` task: after each status change, and a
 * sweep that re-signs before half the validity and drops expired
 * certificates' responses) and by the benchmark seeding.
 */
export interface PresignOptions {
  now: Date;
  /** nextUpdate - thisUpdate, in hours (OCSP_RESPONSE_VALIDITY_HOURS). */
  validityHours: number;
  /** Certificates signed per transaction. */
  batchSize?: number;
}

const HOUR_MS = 3_600_000;

interface CertificateRow {
  id: string;
  ca_id: string;
  serial: Buffer;
  status: string;
  not_after: Date;
  revoked_at: Date | null;
  revocation_reason: number | null;
}

/**
 * Signs and stores the responses of these certificates, under a FOR SHARE
 * lock on their rows so that a status change committing meanwhile (which
 * takes FOR UPDATE in announceStatusChange, db/certificate-status-change.ts)
 * either waits for this transaction and deletes what it stored, or is seen
 * by it. Certificates without an answer (pending, abandoned, expired) get no
 * stored response (and lose the one they had). Returns how many were signed.
 */
export async function presignCertificates(
  pool: Pool,
  identities: readonly OcspSigningIdentity[],
  certificateIds: readonly string[],
  options: PresignOptions,
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const byCa = new Map(identities.map((identity) => [identity.caId, identity]));
  let signed = 0;
  for (let start = 0; start < certificateIds.length; start += batchSize) {
    const ids = certificateIds.slice(start, start + batchSize);
    signed += await inTransaction(pool, async (client) => {
      const { rows } = await client.query<CertificateRow>(
        `SELECT id, ca_id, serial, status, not_after, revoked_at, revocation_reason
           FROM certificate WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE`,
        [ids],
      );
      const answered = rows.filter(
        (row) => (ANSWERED_STATUSES as readonly string[]).includes(row.status) && row.not_after > options.now && byCa.has(row.ca_id),
      );
      const dropped = rows.filter((row) => !answered.includes(row)).map((row) => row.id);
      if (dropped.length > 0) await client.query(`DELETE FROM ocsp_response WHERE certificate_id = ANY($1::uuid[])`, [dropped]);
      if (answered.length === 0) return 0;
      const thisUpdate = options.now;
      const nextUpdate = new Date(thisUpdate.getTime() + options.validityHours * HOUR_MS);
      const ders: Buffer[] = [];
      for (const row of answered) {
        const identity = byCa.get(row.ca_id)!;
        const single = encodeSingleResponse({
          certIdDer: encodeCertId(identity.issuer, 'sha1', magnitudeOf(row.serial)),
          certStatus: ocspStatusOf(row),
          thisUpdate,
          nextUpdate,
        });
        ders.push(Buffer.from(await identity.builder.build({ producedAt: thisUpdate, singleResponses: [single] })));
      }
      await client.query(
        `INSERT INTO ocsp_response (certificate_id, hash_algorithm, der, this_update, next_update, produced_at)
         SELECT id, 'sha1', der, $3, $4, $3 FROM unnest($1::uuid[], $2::bytea[]) AS t(id, der)
         ON CONFLICT (certificate_id, hash_algorithm) DO UPDATE
           SET der = EXCLUDED.der, this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update,
               produced_at = EXCLUDED.produced_at`,
        [answered.map((row) => row.id), ders, thisUpdate, nextUpdate],
      );
      return answered.length;
    });
  }
  return signed;
}

export interface RefreshResult {
  /** Responses signed (due for refresh, or missing). */
  signed: number;
  /** Stored responses removed (expired certificates, no longer answered). */
  dropped: number;
}

/**
 * The periodic sweep: (1) re-signs every stored response whose nextUpdate
 * is less than half the validity away (RFC 5019 §6.2: never serve an
 * expired response; refreshing at half-life leaves time for retries) and
 * drops those of certificates that expired or lost their answer; (2) signs
 * the responses of answered certificates that have none (new issuances
 * whose job was lost, a restored database). Bounded by `maxCertificates`
 * per run; the next run continues.
 */
export async function refreshOcspResponses(
  pool: Pool,
  identities: readonly OcspSigningIdentity[],
  options: PresignOptions & { maxCertificates?: number },
): Promise<RefreshResult> {
  const batchSize = options.batchSize ?? 500;
  const budget = options.maxCertificates ?? Number.MAX_SAFE_INTEGER;
  const threshold = new Date(options.now.getTime() + (options.validityHours * HOUR_MS) / 2);
  const result: RefreshResult = { signed: 0, dropped: 0 };

  const expired = await pool.query(
    `DELETE FROM ocsp_response r USING certificate c
      WHERE r.certificate_id = c.id AND r.next_update < $1 AND c.not_after <= $2`,
    [threshold, options.now],
  );
  result.dropped += expired.rowCount ?? 0;

  let done = 0;
  for (;;) {
    if (done >= budget) return result;
    const { rows } = await pool.query<{ certificate_id: string }>(
      `SELECT DISTINCT certificate_id FROM (
         SELECT certificate_id FROM ocsp_response WHERE next_update < $1 ORDER BY next_update LIMIT $2) due`,
      [threshold, Math.min(batchSize, budget - done)],
    );
    if (rows.length === 0) break;
    const ids = rows.map((row) => row.certificate_id);
    result.signed += await presignCertificates(pool, identities, ids, options);
    // SHA-256 rows are never pre-signed: drop due ones rather than loop on them.
    const stale = await pool.query(`DELETE FROM ocsp_response WHERE certificate_id = ANY($1::uuid[]) AND next_update < $2`, [ids, threshold]);
    result.dropped += stale.rowCount ?? 0;
    done += ids.length;
  }

  let cursor = '00000000-0000-0000-0000-000000000000';
  const caIds = identities.map((identity) => identity.caId);
  for (;;) {
    if (done >= budget) return result;
    const { rows } = await pool.query<{ id: string }>(
      `SELECT c.id FROM certificate c
        WHERE c.id > $1 AND c.ca_id = ANY($2::uuid[]) AND c.status = ANY($3::text[]) AND c.not_after > $4
          AND NOT EXISTS (SELECT 1 FROM ocsp_response r WHERE r.certificate_id = c.id AND r.hash_algorithm = 'sha1')
        ORDER BY c.id LIMIT $5`,
      [cursor, caIds, ANSWERED_STATUSES, options.now, Math.min(batchSize, budget - done)],
    );
    if (rows.length === 0) break;
    result.signed += await presignCertificates(
      pool,
      identities,
      rows.map((row) => row.id),
      options,
    );
    cursor = rows[rows.length - 1].id;
    done += rows.length;
  }
  return result;
}

/** The serial's magnitude: the stored DER INTEGER content without its 00 sign octet. */
export function magnitudeOf(serial: Uint8Array): Uint8Array {
  return serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
}
