import { createHash } from 'node:crypto';
import { crlReasonFromCode } from '@moica/pki';
import { asRevocationReason, type CertificateFacts, type CertificateStatus } from '@moica/policy';
import { ADD_NOTICE_JOB } from './enqueue-notice';
import type { NoticeAddressee, NoticeChannel, NoticeKind } from './notice-kinds';
import { queryRows, type Queryable } from './queryable';

/** A card's current signature certificate, as the notice rules see it. */
export interface CardCertificate {
  readonly certificateId: string;
  readonly cardId: string;
  readonly holderId: string;
  readonly facts: CertificateFacts;
}

/** A lifecycle notice row to create (pending) or to record as skipped. */
export interface LifecycleNoticeRow {
  readonly certificateId: string;
  readonly cardId: string;
  readonly holderId: string;
  readonly kind: NoticeKind;
  readonly channel: NoticeChannel;
  readonly dueAt: Date;
  readonly state: 'pending' | 'skipped';
  readonly lastError: string | null;
}

/** A claimed notice with what is needed to write and address it. */
export interface ClaimedNotice {
  readonly id: string;
  readonly kind: NoticeKind;
  readonly channel: NoticeChannel;
  readonly addressee: NoticeAddressee;
  readonly recipient: string | null;
  readonly holderId: string;
  readonly certificateId: string | null;
  readonly cardId: string | null;
  readonly dueAt: Date;
}

const STATUS: Record<string, CertificateStatus> = {
  on_hold: 'on-hold-until-activated',
  valid: 'valid',
  suspended: 'suspended',
  revoked: 'revoked',
};

interface CertificateRow {
  id: string;
  card_id: string;
  holder_id: string;
  issued_at: Date;
  not_before: Date;
  not_after: Date;
  status: string;
  suspended_by: 'holder' | 'court-order' | null;
  revocation_reason: number | null;
  is_renewal: boolean;
}

/**
 * Signature certificates that are their card's current one (not replaced by
 * a renewal): both certificates of a card share the facts, so the card is
 * told once. 'pending' and 'abandoned' rows were never issued.
 */
const CURRENT_CERTIFICATES = `
  SELECT c.id, c.card_id, k.holder_id, k.issued_at, c.not_before, c.not_after, c.status, c.suspended_by,
         c.revocation_reason, c.renewed_from_id IS NOT NULL AS is_renewal
    FROM certificate c
    JOIN card k ON k.id = c.card_id
   WHERE c.kind = 'signature' AND c.status IN ('on_hold', 'valid', 'suspended', 'revoked')
     AND NOT EXISTS (SELECT 1 FROM certificate r
                      WHERE r.card_id = c.card_id AND r.renewed_from_id = c.id
                        AND r.status IN ('on_hold', 'valid', 'suspended', 'revoked'))`;

function toCardCertificate(row: CertificateRow): CardCertificate {
  return {
    certificateId: row.id,
    cardId: row.card_id,
    holderId: row.holder_id,
    facts: {
      cardIssuedAt: row.issued_at,
      notBefore: row.not_before,
      notAfter: row.not_after,
      status: STATUS[row.status],
      suspendedBy: row.status === 'suspended' ? (row.suspended_by ?? 'holder') : null,
      revocationReason: row.status === 'revoked' ? (asRevocationReason(crlReasonFromCode(row.revocation_reason ?? 0)) ?? null) : null,
      isRenewal: row.is_renewal,
    },
  };
}

/** Current certificates with notAfter in [from, to): one batch of the scan, read through certificate_not_after. */
export async function currentCertificatesEndingIn(db: Queryable, from: Date, to: Date): Promise<CardCertificate[]> {
  const rows = await queryRows<CertificateRow>(db, `${CURRENT_CERTIFICATES} AND c.not_after >= $1 AND c.not_after < $2`, [from, to]);
  return rows.map(toCardCertificate);
}

/** The current certificate of one card, or null. */
export async function currentCertificateOfCard(db: Queryable, cardId: string): Promise<CardCertificate | null> {
  const rows = await queryRows<CertificateRow>(db, `${CURRENT_CERTIFICATES} AND c.card_id = $1 ORDER BY c.not_after DESC LIMIT 1`, [cardId]);
  return rows.length ? toCardCertificate(rows[0]) : null;
}

/**
 * Inserts lifecycle notices; a (card, kind, channel, due instant) already
 * recorded is left alone (unique index notice_once_per_card), so concurrent
 * or repeated scans create each notice once. Pending ones get their delivery
 * job in the same statement (and so the same transaction).
 */
export async function insertLifecycleNotices(
  db: Queryable,
  rows: readonly LifecycleNoticeRow[],
  maxAttempts: number,
): Promise<{ queued: number; skipped: number }> {
  if (rows.length === 0) return { queued: 0, skipped: 0 };
  const input = rows.map((row) => ({
    certificate_id: row.certificateId,
    card_id: row.cardId,
    holder_id: row.holderId,
    kind: row.kind,
    channel: row.channel,
    due_at: row.dueAt.toISOString(),
    state: row.state,
    last_error: row.lastError,
  }));
  const created = await queryRows<{ state: string }>(
    db,
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS x(certificate_id uuid, card_id uuid, holder_id uuid, kind text, channel text, due_at timestamptz, state text, last_error text)
     ), ins AS (
       INSERT INTO notice (certificate_id, card_id, holder_id, kind, channel, due_at, state, last_error)
       SELECT certificate_id, card_id, holder_id, kind, channel, due_at, state, last_error
         FROM input ORDER BY card_id, kind, channel, due_at
       ON CONFLICT (card_id, kind, channel, due_at) WHERE event_key IS NULL DO NOTHING
       RETURNING id, channel, state
     )
     SELECT ins.state, CASE WHEN ins.state = 'pending' THEN ${ADD_NOTICE_JOB('ins', '$2')} END AS job_id FROM ins`,
    [JSON.stringify(input), maxAttempts],
  );
  return {
    queued: created.filter((row) => row.state === 'pending').length,
    skipped: created.filter((row) => row.state === 'skipped').length,
  };
}

/** The instant the scan has covered, or null before the first scan. */
export async function scannedThrough(db: Queryable): Promise<Date | null> {
  const rows = await queryRows<{ scanned_through: Date }>(db, `SELECT scanned_through FROM notice_scan WHERE id = 1`);
  return rows[0]?.scanned_through ?? null;
}

/** Moves the cursor forward (never back: a scan that finished later does not undo a newer one). */
export async function advanceScanCursor(db: Queryable, through: Date): Promise<void> {
  await db.query(
    `INSERT INTO notice_scan (id, scanned_through) VALUES (1, $1)
     ON CONFLICT (id) DO UPDATE SET scanned_through = GREATEST(notice_scan.scanned_through, EXCLUDED.scanned_through), updated_at = now()`,
    [through],
  );
}

/**
 * Claims a notice for delivery: pending, or 'sending' whose lease (database
 * time) ran out because the worker that claimed it stopped. Atomic, so two
 * workers never send the same notice at the same time.
 */
export async function claimNotice(db: Queryable, id: string, now: Date, leaseSeconds: number): Promise<ClaimedNotice | null> {
  const rows = await queryRows<{
    id: string;
    kind: NoticeKind;
    channel: NoticeChannel;
    addressee: NoticeAddressee;
    recipient: string | null;
    holder_id: string;
    certificate_id: string | null;
    card_id: string | null;
    due_at: Date;
  }>(
    db,
    `UPDATE notice SET state = 'sending', attempts = attempts + 1, last_attempt_at = $2,
            claimed_until = now() + make_interval(secs => $3)
      WHERE id = $1 AND (state = 'pending' OR (state = 'sending' AND claimed_until < now()))
      RETURNING id::text, kind, channel, addressee, recipient, holder_id, certificate_id, card_id, due_at`,
    [id, now, leaseSeconds],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    addressee: row.addressee,
    recipient: row.recipient,
    holderId: row.holder_id,
    certificateId: row.certificate_id,
    cardId: row.card_id,
    dueAt: row.due_at,
  };
}

export async function noticeState(db: Queryable, id: string): Promise<string | null> {
  const rows = await queryRows<{ state: string }>(db, `SELECT state FROM notice WHERE id = $1`, [id]);
  return rows[0]?.state ?? null;
}

/** What a message needs: the holder's name and current addresses, the certificate serial. */
export async function deliveryContext(
  db: Queryable,
  notice: ClaimedNotice,
): Promise<{ holderName: string; email: string; mobile: string; serialHex: string | null; cardIssuedAt: Date | null }> {
  const rows = await queryRows<{ name: string; contact_email: string; mobile: string; serial: Buffer | null; issued_at: Date | null }>(
    db,
    `SELECT h.name, h.contact_email, h.mobile, c.serial, k.issued_at
       FROM holder h
       LEFT JOIN certificate c ON c.id = $2::uuid
       LEFT JOIN card k ON k.id = coalesce($3::uuid, c.card_id)
      WHERE h.id = $1`,
    [notice.holderId, notice.certificateId, notice.cardId],
  );
  const row = rows[0];
  if (!row) throw new Error(`notice ${notice.id}: holder not found`);
  return {
    holderName: row.name,
    email: row.contact_email,
    mobile: row.mobile,
    serialHex: row.serial ? row.serial.toString('hex').toUpperCase() : null,
    cardIssuedAt: row.issued_at,
  };
}

export function addressHash(address: string): Buffer {
  return createHash('sha256').update(address.trim().toLowerCase()).digest();
}

export async function markSent(
  db: Queryable,
  id: string,
  at: Date,
  address: string,
  providerMessageId: string | null,
): Promise<void> {
  await db.query(
    `UPDATE notice SET state = 'sent', sent_at = $2, recipient = NULL, recipient_sha256 = $3, provider_message_id = $4,
            last_error = NULL, claimed_until = NULL
      WHERE id = $1 AND state = 'sending'`,
    [id, at, addressHash(address), providerMessageId],
  );
}

/** Ends a claim: 'pending' (to be retried), 'failed' (final) or 'skipped' (no longer due). */
export async function releaseNotice(db: Queryable, id: string, state: 'pending' | 'failed' | 'skipped', error: string): Promise<void> {
  await db.query(
    `UPDATE notice SET state = $2, last_error = $3, claimed_until = NULL WHERE id = $1 AND state = 'sending'`,
    [id, state, error.slice(0, 1000)],
  );
}
