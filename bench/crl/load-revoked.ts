/**
 * Loads revoked certificates for the CRL benchmark: what the CA holds after
 * a million revocations. Each row gets the CRL entry DER the CA stores at
 * revocation (encodeCrlEntry, in batches), a partition (partitionFor), and a
 * stand-in certificate DER of a realistic size; the same entries go, line
 * by line, into an `openssl ca` index file for the side-by-side run.
 *
 * For demos and the OCSP benchmark with holders, cards and valid
 * certificates, see tools/synthetic-data.ts; this loader only needs revoked
 * rows of one CA.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Pool } from 'pg';
import { CrlReason, CRL_REASON_CODES, encodeCrlEntry, revocationIssuerFromCertificate } from '@moica/pki';
import { partitionFor } from '../../db/crl-partition';

/** The reasons of the synthetic revocations, in rotation (unspecified: no reasonCode, RFC 5280 §5.3.1). */
const REASONS: CrlReason[] = ['keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged', 'unspecified', 'superseded', 'keyCompromise'];
const OPENSSL_REASON: Partial<Record<CrlReason, string>> = {
  keyCompromise: 'keyCompromise',
  superseded: 'superseded',
  cessationOfOperation: 'cessationOfOperation',
  affiliationChanged: 'affiliationChanged',
};
const NOT_BEFORE = new Date('2024-06-01T00:00:00Z');
const NOT_AFTER = new Date('2030-06-01T00:00:00Z');
const REVOKED_FROM = Date.parse('2025-01-01T00:00:00Z');
const REVOKED_SPAN = 690 * 86_400_000;

/** Inserts an issuing CA row for `certificateDer` (the key location is not used by the benchmark). */
export async function insertBenchCa(pool: Pool, name: string, certificateDer: Uint8Array, crlPartitions: number): Promise<string> {
  const issuer = revocationIssuerFromCertificate(certificateDer);
  const { rows } = await pool.query(
    `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm,
        spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after, crl_partitions, development)
     VALUES ($1, 'issuing', $1, $2, 'software:bench', 'RSA-4096', $3, $4, $5, $6, $7, $8, $9, true) RETURNING id`,
    [
      name,
      Buffer.from(certificateDer),
      Buffer.from(issuer.certIdHashes.sha1.keyHash),
      Buffer.from(issuer.certIdHashes.sha256.keyHash),
      Buffer.from(issuer.certIdHashes.sha1.nameHash),
      Buffer.from(issuer.certIdHashes.sha256.nameHash),
      new Date('2025-01-01T00:00:00Z'),
      new Date('2040-01-01T00:00:00Z'),
      crlPartitions,
    ],
  );
  return rows[0].id;
}

export interface LoadRevokedOptions {
  caId: string;
  count: number;
  /** Size of the stand-in certificate DER of each row. */
  derBytes: number;
  partitions: number;
  /** Where to write the `openssl ca` index of the same entries (optional). */
  indexFile?: string;
  batchSize?: number;
}

/** Inserts `count` revoked certificates in batches; returns how many. */
export async function loadRevokedCertificates(pool: Pool, options: LoadRevokedOptions): Promise<number> {
  const batchSize = options.batchSize ?? 10_000;
  const stand_in = Buffer.alloc(Math.max(1, options.derBytes), 0x30);
  const index = options.indexFile ? createWriteStream(options.indexFile) : undefined;
  const expiry = opensslTime(NOT_AFTER);
  let inserted = 0;
  while (inserted < options.count) {
    const n = Math.min(batchSize, options.count - inserted);
    const serials: Buffer[] = [];
    const partitions: number[] = [];
    const revokedAt: Date[] = [];
    const reasons: number[] = [];
    const entries: Buffer[] = [];
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const serial = randomBytes(16);
      serial[0] = (serial[0] & 0x7f) | 0x01; // positive, no leading zero octet: 16 octets exactly
      const at = new Date(REVOKED_FROM + Math.floor(Math.random() * REVOKED_SPAN / 1000) * 1000);
      const reason = REASONS[(inserted + i) % REASONS.length];
      serials.push(serial);
      partitions.push(partitionFor(serial, options.partitions));
      revokedAt.push(at);
      reasons.push(CRL_REASON_CODES[reason]);
      entries.push(Buffer.from(encodeCrlEntry({ serial, revokedAt: at, reason: reason === 'unspecified' ? undefined : reason })));
      if (index) {
        const why = OPENSSL_REASON[reason];
        lines.push(`R\t${expiry}\t${opensslTime(at)}${why ? `,${why}` : ''}\t${serial.toString('hex').toUpperCase()}\tunknown\t/CN=bench holder\n`);
      }
    }
    await pool.query(
      `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256, crl_partition,
                                revoked_at, revocation_reason, crl_entry_der, status_changed_at)
       SELECT $1, t.serial, 'signature', 'revoked', $2, $3, '\\x30', $4, '\\x01', t.partition, t.at, t.reason, t.entry, t.at
         FROM unnest($5::bytea[], $6::int[], $7::timestamptz[], $8::smallint[], $9::bytea[]) AS t(serial, partition, at, reason, entry)`,
      [options.caId, NOT_BEFORE, NOT_AFTER, stand_in, serials, partitions, revokedAt, reasons, entries],
    );
    if (index && !index.write(lines.join(''))) await new Promise<void>((done) => index.once('drain', () => done()));
    inserted += n;
  }
  if (index) await new Promise<void>((done, fail) => index.end((error?: Error | null) => (error ? fail(error) : done())));
  return inserted;
}

/** UTCTime as openssl's index writes it: YYMMDDHHMMSSZ. */
function opensslTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}
