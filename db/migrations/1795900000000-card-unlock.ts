import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12, card unlock online (鎖卡解碼, docs/card-unlock.md):
 *
 * - `card_unlock_master_key`: the master keys the card unblock keys are
 *   derived from, by version, with their key location (never key material).
 *   Created by the key ceremony (M-of-N); the one `active` version is what
 *   the bureau personalises new cards with; older versions stay usable for
 *   the cards that carry them (card.unblock_key_version, initial schema).
 * - `card_personalisation`: which version the bureau wrote into a card
 *   number. A card row inserted later (the counter issues a card from the
 *   bureau's stock) takes that version from here (trigger).
 * - `card_unlock_challenge`: every card challenge the CA has answered; a
 *   challenge answered once is never answered again (replay).
 */
export class CardUnlock1795900000000 implements MigrationInterface {
  name = 'CardUnlock1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE card_unlock_master_key (
        version           integer PRIMARY KEY CHECK (version > 0),
        key_location      text NOT NULL UNIQUE,
        development       boolean NOT NULL,
        active            boolean NOT NULL,
        created_at        timestamptz NOT NULL,
        key_operation_id  uuid REFERENCES key_operation_approval(id)
      );
      CREATE UNIQUE INDEX card_unlock_master_key_one_active ON card_unlock_master_key (active) WHERE active;

      CREATE TABLE card_personalisation (
        card_number          text PRIMARY KEY CHECK (card_number ~ '^[A-Z0-9]{8,20}$'),
        unblock_key_version  integer NOT NULL REFERENCES card_unlock_master_key(version),
        exported_at          timestamptz NOT NULL,
        exported_by          text NOT NULL
      );

      CREATE FUNCTION card_takes_personalised_key_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.unblock_key_version := coalesce(
          (SELECT p.unblock_key_version FROM card_personalisation p WHERE p.card_number = NEW.card_number),
          NEW.unblock_key_version);
        RETURN NEW;
      END $$;
      CREATE TRIGGER card_personalised_key_version BEFORE INSERT ON card
        FOR EACH ROW EXECUTE FUNCTION card_takes_personalised_key_version();

      CREATE TABLE card_unlock_challenge (
        card_id      uuid NOT NULL REFERENCES card(id),
        challenge    bytea NOT NULL CHECK (octet_length(challenge) = 16),
        answered_at  timestamptz NOT NULL,
        PRIMARY KEY (card_id, challenge)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS card_unlock_challenge;
      DROP TRIGGER IF EXISTS card_personalised_key_version ON card;
      DROP FUNCTION IF EXISTS card_takes_personalised_key_version();
      DROP TABLE IF EXISTS card_personalisation;
      DROP TABLE IF EXISTS card_unlock_master_key;
    `);
  }
}
