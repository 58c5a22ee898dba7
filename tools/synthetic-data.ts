/**
 * Synthetic holders, cards and certificates in bulk, for benchmarks and load
 * tests (never for a real CA database). Everything is generated inside
 * PostgreSQL (generate_series), so a million certificates take a minute or
 * two rather than an hour of round trips.
 *
 * THESE ROWS ARE SYNTHETIC:
 * - no certificate is signed: tbs_der and der are a placeholder DER (an empty
 *   SEQUENCE, 30 00) and spki_sha256 is random. They serve what reads dates
 *   and statuses (notices, CRL/OCSP selection by status), not what parses DER;
 * - holders have made-up names (合成持卡人<n>), addresses in the reserved
 *   .invalid domain (RFC 2606), mobile numbers 09<8 digits> that are nobody's
 *   in particular, a placeholder national-ID ciphertext and a unique
 *   placeholder HMAC: there is no national ID number behind them;
 * - one synthetic issuing CA row per call, marked development.
 *
 * The dates follow the lifecycle rules as stored by every issuance path
 * (docs/lifecycle.md): a card's first certificates run from issuedAt to
 * issuedAt + 5 years - 1 s, a renewal from the renewal instant to the cap
 * (issuedAt + 8 years - 1 s); years are counted on the Taiwan wall clock
 * (the session time zone is Asia/Taipei while seeding, so PostgreSQL's year
 * arithmetic clamps 29 February exactly as addTaiwanYears does).
 */
import type { Pool } from 'pg';

export interface SyntheticCertificateOptions {
  /** Certificates to create (each card has two: signature and encryption; a renewed card four). Rounded down to even. */
  readonly count: number;
  /** Share of cards whose current certificates are revoked (0..1). */
  readonly revokedShare: number;
  /** Share of cards whose current certificates are suspended (0..1). */
  readonly suspendedShare: number;
  /** The instant the data is "as of": cards are issued over the 9 years before it. */
  readonly now: Date;
  /** Share of certificates that belong to renewed cards (original pair + renewal pair); default 0.2. */
  readonly renewedShare?: number;
}

export interface SyntheticCertificateReport {
  readonly cards: number;
  readonly renewedCards: number;
  readonly certificates: number;
  readonly caId: string;
  readonly seconds: number;
}

/**
 * Inserts holders, cards and certificates with notBefore/notAfter spread over
 * the 9 years before `now` (plain cards issued uniformly in that span, so
 * some are past the 8-year cap but within online re-issuance; renewed cards
 * issued between 8 and 5 years - 60 days before `now`, renewed inside their
 * renewal window). Serials are 16 random bytes. One transaction.
 */
export async function seedSyntheticCertificates(pool: Pool, options: SyntheticCertificateOptions): Promise<SyntheticCertificateReport> {
  const started = process.hrtime.bigint();
  const count = Math.floor(options.count / 2) * 2;
  const renewedShare = options.renewedShare ?? 0.2;
  for (const [name, share] of Object.entries({ revokedShare: options.revokedShare, suspendedShare: options.suspendedShare, renewedShare })) {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`${name} must be between 0 and 1`);
  }
  if (options.revokedShare + options.suspendedShare > 1) throw new RangeError('revokedShare + suspendedShare must not exceed 1');
  const renewedCards = Math.floor((count * renewedShare) / 4);
  const plainCards = (count - 4 * renewedCards) / 2;
  const cards = renewedCards + plainCards;
  const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL TimeZone = 'Asia/Taipei'`);
    await client.query(`SET LOCAL synchronous_commit = off`);
    const ca = await client.query<{ id: string }>(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm, spki_sha1,
          spki_sha256, subject_sha1, subject_sha256, not_before, not_after, development)
       VALUES ($1, 'issuing', 'C=TW, CN=Synthetic Issuing CA (not a CA)', '\\x3000', 'software:/dev/null', 'RSA-4096',
               '\\x00', '\\x00', '\\x00', '\\x00', $2::timestamptz - interval '10 years', $2::timestamptz + interval '10 years', true)
       RETURNING id`,
      [`synthetic-${tag}`, options.now],
    );
    const caId = ca.rows[0].id;
    // One row per card: who, when, what happened to it.
    await client.query(
      `CREATE TEMP TABLE synthetic_card ON COMMIT DROP AS
       SELECT i, renewed, issued_at,
              CASE WHEN renewed THEN date_trunc('second', renewal_opens + random() * (least($1::timestamptz, issued_at + interval '8 years') - renewal_opens))
              END AS renewed_at,
              CASE WHEN fate < $2 THEN 'revoked' WHEN fate < $2 + $3 THEN 'suspended' ELSE 'valid' END AS status,
              gen_random_uuid() AS holder_id, gen_random_uuid() AS card_id,
              gen_random_uuid() AS signature_id, gen_random_uuid() AS encryption_id
         FROM (
           SELECT i, renewed, issued_at, issued_at + interval '5 years' - interval '60 days' AS renewal_opens, random() AS fate
             FROM (
               SELECT i, i <= $4 AS renewed,
                      date_trunc('second', CASE WHEN i <= $4
                        THEN $1::timestamptz - interval '8 years' + random() * (interval '3 years' + interval '60 days')
                        ELSE $1::timestamptz - random() * interval '9 years' END) AS issued_at
                 FROM generate_series(1, $5::int) AS i
             ) dated
         ) fated`,
      [options.now, options.revokedShare, options.suspendedShare, renewedCards, cards],
    );
    await client.query(
      `INSERT INTO holder (id, holder_number, name, national_id_ciphertext, national_id_hmac, national_id_last4, date_of_birth,
                           mobile, contact_email, user_code_hash)
       SELECT holder_id, lpad((base.n + i)::text, 16, '0'), '合成持卡人' || i, '\\x00',
              sha256(convert_to($1 || ':' || i, 'UTF8')), lpad((i % 10000)::text, 4, '0'),
              date '1950-01-01' + (i % 18000), '09' || lpad((i % 100000000)::text, 8, '0'),
              'holder' || i || '.' || $1 || '@synthetic.invalid', 'synthetic'
         FROM synthetic_card, (SELECT coalesce(max(holder_number::bigint), 0) AS n FROM holder) base`,
      [tag],
    );
    await client.query(
      `INSERT INTO card (id, holder_id, card_number, issued_at, cap_at)
       SELECT card_id, holder_id, 'SYN' || $1 || '-' || i, issued_at, issued_at + interval '8 years' FROM synthetic_card`,
      [tag],
    );
    // The first pair of every card (current unless the card was renewed), then the renewal pairs.
    await client.query(
      `INSERT INTO certificate (id, ca_id, card_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256,
                                crl_partition, renewed_from_id, revoked_at, revocation_reason, suspended_by)
       SELECT id, $1, card_id, substring(sha256(convert_to(random()::text || clock_timestamp()::text || id::text, 'UTF8')) FROM 1 FOR 16),
              kind, status, not_before, not_after, '\\x3000', '\\x3000',
              sha256(convert_to(id::text, 'UTF8')), (hashtext(id::text) & 15), renewed_from_id,
              CASE WHEN status <> 'valid' THEN revoked_at END,
              CASE status WHEN 'revoked' THEN CASE WHEN random() < 0.7 THEN 1 ELSE 5 END WHEN 'suspended' THEN 6 END,
              CASE WHEN status = 'suspended' THEN 'holder' END
         FROM (
           SELECT CASE k.kind WHEN 'signature' THEN c.signature_id ELSE c.encryption_id END AS id,
                  c.card_id, k.kind, CASE WHEN c.renewed THEN 'valid' ELSE c.status END AS status,
                  c.issued_at AS not_before, c.issued_at + interval '5 years' - interval '1 second' AS not_after,
                  NULL::uuid AS renewed_from_id,
                  date_trunc('second', c.issued_at + random() * (least($2::timestamptz, c.issued_at + interval '5 years') - c.issued_at)) AS revoked_at
             FROM synthetic_card c CROSS JOIN (VALUES ('signature'), ('encryption')) AS k(kind)
           UNION ALL
           SELECT gen_random_uuid(), c.card_id, k.kind, c.status,
                  c.renewed_at, c.issued_at + interval '8 years' - interval '1 second',
                  CASE k.kind WHEN 'signature' THEN c.signature_id ELSE c.encryption_id END,
                  date_trunc('second', c.renewed_at + random() * (least($2::timestamptz, c.issued_at + interval '8 years') - c.renewed_at))
             FROM synthetic_card c CROSS JOIN (VALUES ('signature'), ('encryption')) AS k(kind)
            WHERE c.renewed
         ) rows`,
      [caId, options.now],
    );
    await client.query('COMMIT');
    return {
      cards,
      renewedCards,
      certificates: 2 * plainCards + 4 * renewedCards,
      caId,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error('seeding synthetic certificates', { cause: error });
  } finally {
    client.release();
  }
}
