import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Queryable } from '@moica/db';

/** Verification codes: 6 digits, valid 10 minutes, 5 tries. */
export const VERIFICATION_MINUTES = 10;
export const VERIFICATION_ATTEMPTS = 5;

export type VerificationPurpose = 'change-mobile-number' | 'change-contact-email' | 'add-email-to-certificate';

export type VerificationVerdict =
  | { ok: true; holderId: string; purpose: VerificationPurpose; value: string }
  | { ok: false; code: 'verification-not-found' | 'verification-expired' | 'verification-code-incorrect' };

/**
 * Codes sent to a new mobile number or e-mail address to prove it is the
 * holder's (DOMAIN.md: contact changes; adding the e-mail to the certificate).
 * Only a SHA-256 of the code (bound to its id) is stored; a check counts wrong
 * tries in its own transaction, so a refused try still counts.
 */
@Injectable()
export class VerificationCodeRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Records a new code in the caller's transaction; returns it so the caller can send it. */
  async create(
    db: Queryable,
    entry: { holderId: string; purpose: VerificationPurpose; value: string; now: Date },
  ): Promise<{ id: string; code: string; expiresAt: Date }> {
    const id = randomUUID();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(entry.now.getTime() + VERIFICATION_MINUTES * 60_000);
    await db.query(
      `INSERT INTO verification_code (id, holder_id, purpose, new_value, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, entry.holderId, entry.purpose, entry.value, codeHash(id, code), expiresAt, entry.now],
    );
    return { id, code, expiresAt };
  }

  /** Checks a code (once valid, it stays valid until used or expired); a wrong one is counted. */
  async check(id: string, code: string, now: Date, purpose?: VerificationPurpose): Promise<VerificationVerdict> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return { ok: false, code: 'verification-not-found' };
    return this.dataSource.transaction(async (manager): Promise<VerificationVerdict> => {
      const rows: Array<{ holder_id: string; purpose: VerificationPurpose; new_value: string; code_hash: Buffer; attempts: number; expires_at: Date; used_at: Date | null }> =
        await manager.query(
          `SELECT holder_id, purpose, new_value, code_hash, attempts, expires_at, used_at FROM verification_code
            WHERE id = $1 AND ($2::text IS NULL OR purpose = $2) FOR UPDATE`,
          [id, purpose ?? null],
        );
      const v = rows[0];
      if (!v) return { ok: false, code: 'verification-not-found' };
      if (v.used_at || v.expires_at <= now || v.attempts >= VERIFICATION_ATTEMPTS) return { ok: false, code: 'verification-expired' };
      if (!timingSafeEqual(codeHash(id, code), v.code_hash)) {
        await manager.query(`UPDATE verification_code SET attempts = attempts + 1 WHERE id = $1`, [id]);
        return { ok: false, code: 'verification-code-incorrect' };
      }
      return { ok: true, holderId: v.holder_id, purpose: v.purpose, value: v.new_value };
    });
  }

  /** Uses the code up, in the transaction that applies the change; false if it was used meanwhile. */
  async markUsed(manager: EntityManager, id: string, now: Date): Promise<boolean> {
    const [, used]: [unknown, number] = await manager.query(`UPDATE verification_code SET used_at = $2 WHERE id = $1 AND used_at IS NULL`, [id, now]);
    return used === 1;
  }
}

function codeHash(verificationId: string, code: string): Buffer {
  return createHash('sha256').update(`${verificationId}:${code}`).digest();
}
