import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The bureau export of card unblock keys (ca-api CardUnlockService) and the
 * insertion of a card row (the counter issuing a card from the bureau's
 * stock) both decide on one card number without any lock between them:
 *
 * - the export saw no card row, then a card row was committed before the
 *   export's personalisation: the key of an issued card went to the bureau;
 * - the export's personalisation row was not committed yet when the card's
 *   trigger read `card_personalisation`: the card took version 1 (the
 *   column's default) while the bureau got the key of the active version, so
 *   the CA's answers would never unblock that card.
 *
 * `lock_card_numbers(text[])` takes a transaction advisory lock per card
 * number, in the order of the lock keys (so two exports of overlapping card
 * numbers cannot deadlock). The export takes it before it looks for issued
 * cards; the card trigger takes it before it reads `card_personalisation`.
 * In READ COMMITTED, the trigger's query after the lock wait sees what the
 * export committed, and the export's queries see the committed card row.
 * Two card numbers with the same hash only wait for each other.
 */
export class CardNumberLock1796312000000 implements MigrationInterface {
  name = 'CardNumberLock1796312000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION lock_card_numbers(card_numbers text[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        lock_key bigint;
      BEGIN
        FOR lock_key IN SELECT DISTINCT hashtextextended('moica-card-number:' || n, 0) FROM unnest(card_numbers) n ORDER BY 1 LOOP
          PERFORM pg_advisory_xact_lock(lock_key);
        END LOOP;
      END $$;

      CREATE OR REPLACE FUNCTION card_takes_personalised_key_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Waits for a bureau export of this card number to commit or roll back (1796312000000-card-number-lock).
        PERFORM lock_card_numbers(ARRAY[NEW.card_number]);
        NEW.unblock_key_version := coalesce(
          (SELECT p.unblock_key_version FROM card_personalisation p WHERE p.card_number = NEW.card_number),
          NEW.unblock_key_version);
        RETURN NEW;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION card_takes_personalised_key_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.unblock_key_version := coalesce(
          (SELECT p.unblock_key_version FROM card_personalisation p WHERE p.card_number = NEW.card_number),
          NEW.unblock_key_version);
        RETURN NEW;
      END $$;
      DROP FUNCTION IF EXISTS lock_card_numbers(text[]);
    `);
  }
}
