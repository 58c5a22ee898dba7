import { randomBytes, randomUUID } from 'node:crypto';
import { addSeconds, cardLifetime } from '@moica/policy';
import type { Queryable } from '../queryable';
import { queryRows } from '../queryable';

/** Rows for notice tests: a CA, holders, cards and certificates with chosen dates (DER placeholders: nothing is signed). */
export async function insertTestCa(db: Queryable): Promise<string> {
  const rows = await queryRows<{ id: string }>(
    db,
    `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm,
        spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after)
     VALUES ($1, 'issuing', 'CN=test', '\\x30', 'software:/test', 'RSA-2048', '\\x01', '\\x01', '\\x01', '\\x01',
             '2020-01-01', '2045-01-01') RETURNING id`,
    [`test-ca-${randomUUID()}`],
  );
  return rows[0].id;
}

export interface TestHolder {
  readonly holderId: string;
  readonly email: string;
  readonly mobile: string;
}

let sequence = 0;

export async function insertTestHolder(db: Queryable, options: { email?: string; mobile?: string; name?: string } = {}): Promise<TestHolder> {
  sequence++;
  const email = options.email ?? `holder${sequence}.${randomBytes(3).toString('hex')}@example.tw`;
  const mobile = options.mobile ?? `09${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const rows = await queryRows<{ id: string }>(
    db,
    `INSERT INTO holder (holder_number, name, national_id_ciphertext, national_id_hmac, national_id_last4, date_of_birth,
                         mobile, contact_email, user_code_hash)
     VALUES (lpad(($1::bigint)::text, 16, '0'), $2, $3, $4, '1234', '1980-01-01', $5, $6, 'not-a-real-hash') RETURNING id`,
    [randomBytes(6).readUIntBE(0, 6), options.name ?? '王小明', randomBytes(32), randomBytes(32), mobile, email],
  );
  return { holderId: rows[0].id, email, mobile };
}

export interface TestCardOptions {
  readonly caId: string;
  readonly holderId: string;
  readonly issuedAt: Date;
  /** Stored status of the current certificates. */
  readonly status?: 'on_hold' | 'valid' | 'suspended' | 'revoked';
  /** Renewed at this instant: the card's current certificates are renewals ending at the cap. */
  readonly renewedAt?: Date;
}

/** A card with its signature and encryption certificates (and their renewals when renewedAt is given). */
export async function insertTestCard(db: Queryable, options: TestCardOptions): Promise<{ cardId: string; signatureId: string }> {
  const life = cardLifetime(options.issuedAt);
  const card = await queryRows<{ id: string }>(
    db,
    `INSERT INTO card (holder_id, card_number, issued_at, cap_at) VALUES ($1, $2, $3, $4) RETURNING id`,
    [options.holderId, `TP${randomBytes(7).toString('hex')}`, life.issuedAt, life.capEnd],
  );
  const cardId = card[0].id;
  const insert = async (kind: string, status: string, notBefore: Date, notAfter: Date, renewedFrom: string | null) => {
    const revoked = status === 'revoked' ? 1 : status === 'suspended' || status === 'on_hold' ? 6 : null;
    const rows = await queryRows<{ id: string }>(
      db,
      `INSERT INTO certificate (ca_id, card_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256,
                                crl_partition, renewed_from_id, revoked_at, revocation_reason, suspended_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, '\\x30', '\\x30', $8, 0, $9, $10, $11, $12) RETURNING id`,
      [
        options.caId,
        cardId,
        randomBytes(16),
        kind,
        status,
        notBefore,
        notAfter,
        randomBytes(32),
        renewedFrom,
        revoked === null ? null : notBefore,
        revoked,
        status === 'suspended' ? 'holder' : null,
      ],
    );
    return rows[0].id;
  };
  const status = options.status ?? 'valid';
  const firstEnd = addSeconds(life.fiveYearEnd, -1);
  if (!options.renewedAt) {
    const signatureId = await insert('signature', status, life.issuedAt, firstEnd, null);
    await insert('encryption', status, life.issuedAt, firstEnd, null);
    return { cardId, signatureId };
  }
  const oldSignature = await insert('signature', 'valid', life.issuedAt, firstEnd, null);
  const oldEncryption = await insert('encryption', 'valid', life.issuedAt, firstEnd, null);
  const signatureId = await insert('signature', status, options.renewedAt, life.capLastSecond, oldSignature);
  await insert('encryption', status, options.renewedAt, life.capLastSecond, oldEncryption);
  return { cardId, signatureId };
}
