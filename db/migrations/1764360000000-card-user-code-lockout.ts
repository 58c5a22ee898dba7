import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 5: wrong user codes are counted per card (five tries, then fifteen
 * minutes locked), not per holder: a holder's card in someone else's hands
 * locks that card only.
 */
export class CardUserCodeLockout1764360000000 implements MigrationInterface {
  name = 'CardUserCodeLockout1764360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE card ADD COLUMN user_code_failures integer NOT NULL DEFAULT 0 CHECK (user_code_failures >= 0);
      ALTER TABLE card ADD COLUMN user_code_locked_until timestamptz;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE card DROP COLUMN IF EXISTS user_code_locked_until;
      ALTER TABLE card DROP COLUMN IF EXISTS user_code_failures;
    `);
  }
}
