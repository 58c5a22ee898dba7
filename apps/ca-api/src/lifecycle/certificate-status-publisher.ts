import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { CrlReason, SuspensionAuthority } from '@moica/policy';
import { crlReasonCode, encodeCrlEntry } from '@moica/pki';
import { announceStatusChange } from '@moica/db';
import { lockHolder } from './card-certificates.repository';

/** A certificate row as a status change needs it. */
export interface CertificateForChange {
  id: string;
  serial: Buffer;
  status: string;
}

export type StoredStatus = 'valid' | 'suspended' | 'revoked' | 'on_hold';

/** Who caused a change, for the status history. */
export interface ChangeActor {
  kind: string;
  id?: string | null;
  detail?: Record<string, unknown>;
}

/**
 * Writes a status change the way relying parties must see it: the row
 * (status, revocation time and reason, who suspended), the CRL entry DER
 * stored at revocation or suspension so CRLs stream it (issue 7), the status
 * history, and the announcement to OCSP responders (issue 6), all in the
 * caller's transaction.
 */
@Injectable()
export class CertificateStatusPublisher {
  async apply(
    manager: EntityManager,
    certificates: CertificateForChange[],
    change: { to: StoredStatus; reason: CrlReason; suspendedBy: SuspensionAuthority | null; invalidityDate?: Date | null },
    at: Date,
    actor: ChangeActor,
  ): Promise<void> {
    for (const certificate of certificates) {
      const listed = change.to === 'revoked' || change.to === 'suspended' || change.to === 'on_hold';
      const reasonCode = listed ? crlReasonCode(change.reason) : null;
      const entry = listed
        ? Buffer.from(
            encodeCrlEntry({
              serial: new Uint8Array(certificate.serial),
              revokedAt: at,
              reason: change.reason === 'removeFromCRL' ? undefined : change.reason,
              invalidityDate: change.invalidityDate ?? undefined,
            }),
          )
        : null;
      await manager.query(
        `UPDATE certificate SET status = $2, revoked_at = $3, revocation_reason = $4, suspended_by = $5, invalidity_date = $6,
                crl_entry_der = $7, status_changed_at = $8
          WHERE id = $1`,
        [certificate.id, change.to, listed ? at : null, reasonCode, change.to === 'suspended' ? change.suspendedBy : null, change.invalidityDate ?? null, entry, at],
      );
      await manager.query(
        `INSERT INTO certificate_status_event (certificate_id, from_status, to_status, reason, at, actor_kind, actor_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [certificate.id, certificate.status, change.to, crlReasonCode(change.reason), at, actor.kind, actor.id ?? null, JSON.stringify(actor.detail ?? {})],
      );
    }
    await this.announce(manager, certificates.map((c) => c.id));
  }

  /** DOMAIN.md: a new card supersedes the holder's other cards; their live certificates are revoked (superseded). */
  async supersedeOtherCards(manager: EntityManager, holderId: string, newCardId: string, at: Date): Promise<string[]> {
    await lockHolder(manager, { holderId });
    const rows: CertificateForChange[] = await manager.query(
      `SELECT c.id, c.serial, c.status FROM certificate c JOIN card k ON k.id = c.card_id
        WHERE k.holder_id = $1 AND k.id <> $2 AND c.status IN ('valid', 'suspended', 'on_hold') AND c.not_after >= $3
        ORDER BY c.id FOR NO KEY UPDATE OF c`,
      [holderId, newCardId, at],
    );
    if (rows.length === 0) return [];
    await this.apply(manager, rows, { to: 'revoked', reason: 'superseded', suspendedBy: null }, at, {
      kind: 'system',
      detail: { supersededByCard: newCardId },
    });
    await manager.query(`UPDATE card SET replaced_by_card_id = $2 WHERE holder_id = $1 AND id <> $2 AND replaced_by_card_id IS NULL`, [
      holderId,
      newCardId,
    ]);
    return rows.map((row) => row.serial.toString('hex'));
  }

  /**
   * Tells OCSP responders that these certificates changed (issue 6, the
   * contract of db/certificate-status-change.ts): stale pre-signed responses
   * dropped, a NOTIFY delivered on commit, a re-signing job enqueued.
   */
  async announce(manager: EntityManager, certificateIds: string[]): Promise<void> {
    for (const id of certificateIds) await announceStatusChange(manager, id);
  }
}
