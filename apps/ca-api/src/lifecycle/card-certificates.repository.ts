import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { crlReasonFromCode } from '@moica/pki';
import { asRevocationReason, type CertificateFacts, type CertificateStatus, type SuspensionAuthority } from '@moica/policy';

/** A live certificate of a card, locked for a status change. */
export interface LockedCertificate {
  id: string;
  serial: Buffer;
  status: 'valid' | 'suspended' | 'on_hold' | 'revoked';
  kind: string;
  facts: CertificateFacts;
  holderId: string;
  cardId: string;
}

const STATUS_TO_POLICY: Record<LockedCertificate['status'], CertificateStatus> = {
  valid: 'valid',
  suspended: 'suspended',
  on_hold: 'on-hold-until-activated',
  revoked: 'revoked',
};

/**
 * Serialises every change to a holder's set of certificates on the holder
 * row: status changes, issuance completing a pending certificate, and the
 * supersession of other cards all take this lock first (order: holder, then
 * card, then certificates, as the user-code check does). A certificate query
 * that starts after the lock is granted sees whatever the previous holder of
 * the lock committed; without it, a `FOR UPDATE ... WHERE status IN (...)`
 * under READ COMMITTED re-checks only the rows it first saw and misses a
 * certificate another transaction just made valid (a suspension that leaves
 * the renewed certificate valid).
 */
export async function lockHolder(manager: EntityManager, holder: { holderId: string } | { cardId: string } | { cardNumber: string }): Promise<void> {
  // FOR NO KEY UPDATE, not FOR UPDATE: these rows are never deleted nor their keys changed, and a foreign-key
  // check of a row inserted elsewhere (a notice, a status event) takes KEY SHARE, which this lock lets through.
  const rows: Array<{ id: string }> =
    'holderId' in holder
      ? await manager.query(`SELECT id FROM holder WHERE id = $1 FOR NO KEY UPDATE`, [holder.holderId])
      : 'cardId' in holder
        ? await manager.query(`SELECT h.id FROM holder h JOIN card k ON k.holder_id = h.id WHERE k.id = $1 FOR NO KEY UPDATE OF h`, [holder.cardId])
        : await manager.query(`SELECT h.id FROM holder h JOIN card k ON k.holder_id = h.id WHERE k.card_number = $1 FOR NO KEY UPDATE OF h`, [holder.cardNumber]);
  if (rows.length === 0) return;
  // Then every certificate of the holder, all cards, in one pass in id order: a transaction that later locks
  // them card by card (several cards, a supersession) already holds them, and one ordered pass cannot deadlock
  // with the OCSP pre-signer, which locks certificates FOR SHARE in id order across holders.
  await manager.query(
    `SELECT 1 FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.holder_id = $1 ORDER BY c.id FOR NO KEY UPDATE OF c`,
    [rows[0].id],
  );
}

/**
 * SQL of a card's certificates for status changes. The holder row is locked
 * first (`lockHolder`), then the certificates FOR NO KEY UPDATE in id order, so
 * concurrent changes on one card serialise and end in a state the policy
 * allows (issue 5: 50 parallel calls).
 */
@Injectable()
export class CardCertificatesRepository {
  /** The card's signed certificates (both kinds, every generation), locked; expired ones included (the policy decides). */
  async lockByCardNumber(manager: EntityManager, cardNumber: string): Promise<LockedCertificate[]> {
    await lockHolder(manager, { cardNumber });
    const rows: Array<{
      id: string;
      serial: Buffer;
      status: LockedCertificate['status'];
      kind: string;
      not_before: Date;
      not_after: Date;
      suspended_by: SuspensionAuthority | null;
      revocation_reason: number | null;
      renewed_from_id: string | null;
      issued_at: Date;
      holder_id: string;
      card_id: string;
    }> = await manager.query(
      `SELECT c.id, c.serial, c.status, c.kind, c.not_before, c.not_after, c.suspended_by, c.revocation_reason,
              c.renewed_from_id, k.issued_at, k.holder_id, k.id AS card_id
         FROM certificate c JOIN card k ON k.id = c.card_id
        WHERE k.card_number = $1 AND c.status IN ('valid', 'suspended', 'on_hold', 'revoked')
        ORDER BY c.id FOR NO KEY UPDATE OF c`,
      [cardNumber],
    );
    return rows.map((row) => ({
      id: row.id,
      serial: row.serial,
      status: row.status,
      kind: row.kind,
      holderId: row.holder_id,
      cardId: row.card_id,
      facts: {
        cardIssuedAt: row.issued_at,
        notBefore: row.not_before,
        notAfter: row.not_after,
        status: STATUS_TO_POLICY[row.status],
        suspendedBy: row.status === 'suspended' ? row.suspended_by : null,
        revocationReason: row.status === 'revoked' ? (asRevocationReason(crlReasonFromCode(row.revocation_reason ?? 0)) ?? 'keyCompromise') : null,
        isRenewal: row.renewed_from_id !== null,
      },
    }));
  }
}
