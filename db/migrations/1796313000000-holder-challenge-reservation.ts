import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A one-time card challenge is now used up in the transaction of the change
 * it authorises (ca-api HolderChallengeRepository.consume), so a request
 * rolled back after an Idempotency-Key take-over leaves it unused for the
 * retry. Online renewal signs between two transactions: to keep one
 * challenge from authorising two signings, it reserves the challenge for its
 * Idempotency-Key before recording and signing, and uses it up in its final
 * transaction. `reserved_for` names that key (caller and key, as JSON); only
 * a request with the same key (the retry that took the claim over) may go on
 * with a reserved challenge. Nullable, no default: adding it rewrites nothing.
 */
export class HolderChallengeReservation1796313000000 implements MigrationInterface {
  name = 'HolderChallengeReservation1796313000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE holder_challenge ADD COLUMN reserved_for text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE holder_challenge DROP COLUMN IF EXISTS reserved_for`);
  }
}
