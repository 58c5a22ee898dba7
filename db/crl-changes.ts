/**
 * What CRL publication reads from the certificate tables: the contract with
 * every writer of certificate status (apps/ca-api; docs/crl.md, "Contract").
 *
 * At issuance
 *   - `certificate.crl_partition` in [0, ca.crl_partitions), deterministic
 *     (`partitionFor(serial, ...)` of db/crl-partition.ts, or ca-api's
 *     partitionOf(card number)), and the certificate profile built with
 *     `moicaProfile({ caLabel: ca.name, baseUrl: PUBLIC_BASE_URL, crlPartitions: ca.crl_partitions })`.
 *   - A certificate issued `on_hold` is listed like a suspended one: store
 *     its `crl_entry_der` (reason certificateHold) and insert a status event.
 *
 * At revocation, suspension (and any change into revoked, suspended, on_hold)
 *   - `certificate.crl_entry_der = encodeCrlEntry({ serial, revokedAt,
 *     reason, invalidityDate })` (reason absent for unspecified, certificateHold
 *     for suspension), together with status, revoked_at, revocation_reason,
 *     invalidity_date, status_changed_at;
 *   - and, IN THE SAME TRANSACTION, one `certificate_status_event` row
 *     (from_status = the status before, to_status = the new one).
 *
 * At resumption (suspended or on_hold -> valid)
 *   - status 'valid', revoked_at/revocation_reason NULL, crl_entry_der NULL,
 *     status_changed_at = when; and, in the same transaction, the
 *     certificate_status_event (from_status 'suspended'/'on_hold', to_status 'valid').
 *
 * Nothing else: `certificate_status_event.xid` defaults to the writing
 * transaction's id. A delta CRL lists the certificates having an event whose
 * xid is not visible in its base CRL's snapshot: in a CRL now (its current
 * crl_entry_der), or removeFromCRL when the first such event left a listed
 * status (from_status in revoked/suspended/on_hold) and the certificate is
 * no longer listed. Complete and partition CRLs list every certificate whose
 * status is listed, by its crl_entry_der.
 */
import type { Pool, PoolClient } from 'pg';
import { encodeCrlEntry, crlReasonFromCode } from '@moica/pki';

/** Statuses a CRL lists (suspended and on_hold with certificateHold). */
export const CRL_LISTED_STATUSES = ['revoked', 'suspended', 'on_hold'] as const;

/**
 * The certificates changed since a base snapshot ($2, pg_snapshot text) for
 * CA $1 (and partition $3), with the from_status of their first change.
 * `xid >= pg_snapshot_xmin(base)` lets the xid index do the work:
 * everything below the base's xmin was visible to it.
 */
export function deltaChangesSql(withPartition: boolean): string {
  return `
    WITH changed AS (
      SELECT e.certificate_id, min(e.id) AS first_id
        FROM certificate_status_event e
       WHERE e.xid >= pg_snapshot_xmin($2::pg_snapshot) AND NOT pg_visible_in_snapshot(e.xid, $2::pg_snapshot)
       GROUP BY e.certificate_id)
    SELECT c.serial, c.status, c.crl_entry_der, c.not_after, c.status_changed_at, f.from_status
      FROM changed ch
      JOIN certificate c ON c.id = ch.certificate_id
      JOIN certificate_status_event f ON f.id = ch.first_id
     WHERE c.ca_id = $1 ${withPartition ? 'AND c.crl_partition = $3' : ''}
     ORDER BY c.serial`;
}

/**
 * Fills crl_entry_der of listed certificates that lack it (rows written
 * before this contract, or synthetic data), from revoked_at,
 * revocation_reason and invalidity_date, in batches. Returns how many rows
 * were filled. Publication refuses to sign a CRL while such rows exist.
 */
export async function backfillCrlEntries(pool: Pool | PoolClient, caId: string, batchSize = 10_000): Promise<number> {
  let filled = 0;
  for (;;) {
    const { rows } = await pool.query<{ id: string; serial: Buffer; revoked_at: Date; revocation_reason: number; invalidity_date: Date | null }>(
      `SELECT id, serial, revoked_at, revocation_reason, invalidity_date FROM certificate
        WHERE ca_id = $1 AND status IN ('revoked', 'suspended', 'on_hold') AND crl_entry_der IS NULL LIMIT $2`,
      [caId, batchSize],
    );
    if (rows.length === 0) return filled;
    const ids: string[] = [];
    const ders: Buffer[] = [];
    for (const row of rows) {
      const reason = crlReasonFromCode(row.revocation_reason);
      ids.push(row.id);
      ders.push(
        Buffer.from(
          encodeCrlEntry({
            serial: new Uint8Array(row.serial),
            revokedAt: row.revoked_at,
            reason: reason === 'unspecified' ? undefined : reason,
            invalidityDate: row.invalidity_date ?? undefined,
          }),
        ),
      );
    }
    await pool.query(
      `UPDATE certificate c SET crl_entry_der = v.der
         FROM unnest($1::uuid[], $2::bytea[]) AS v(id, der)
        WHERE c.id = v.id AND c.crl_entry_der IS NULL`,
      [ids, ders],
    );
    filled += rows.length;
  }
}
