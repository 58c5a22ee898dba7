import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An Idempotency-Key claim left unfinished for 60 s is taken over by a retry,
 * but the request that held it may only have been slow (a lock wait, an HSM),
 * not dead. Its completion and its release matched the key alone, so both
 * requests committed their state change, and a failing first request deleted
 * the retry's live claim, letting a third run as well.
 *
 * `claim_token` is drawn by PostgreSQL at each claim and each take-over
 * (ca-api's IdempotencyRepository); completion and release match it, so only
 * the request holding the claim can complete or free it. Nullable and
 * without a default, so adding it rewrites nothing: claims made before this
 * migration have none and can only be taken over (which draws one) or left
 * as they are once completed.
 */
export class IdempotencyClaimToken1796311900000 implements MigrationInterface {
  name = 'IdempotencyClaimToken1796311900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_key ADD COLUMN claim_token uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_key DROP COLUMN IF EXISTS claim_token`);
  }
}
