import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notice delivery (issue 8). The initial `notice` table allowed one notice per
 * certificate, kind and channel; that is wrong both ways:
 * - lifecycle notices (renewal/re-issuance windows) are once per **card**,
 *   kind and due instant (docs/lifecycle.md "Delivery rule"): a card renewed
 *   inside the re-issuance window must not get "re-issuance window opened"
 *   again for its new certificate;
 * - transactional notices (suspended, resumed...) happen as often as the
 *   event: a certificate suspended twice gets two notices, one per event.
 * So a lifecycle notice is unique on (card_id, kind, channel, due_at) and a
 * transactional one on (event_key, kind, channel, addressee).
 *
 * Delivery state: 'sending' marks a claimed notice while the message is on
 * its way (claimed_until is the lease, in database time); 'failed' is final
 * (permanent refusal or retries exhausted) and shown to operators.
 * `recipient` holds an address only when it cannot be read from `holder` at
 * send time (the previous address of a contact change); it is erased once the
 * message is sent, and `recipient_sha256` records where it went.
 * `notice_scan` is the daily scan's cursor: the instant it has scanned through.
 */
export class NoticeDelivery1764400000000 implements MigrationInterface {
  name = 'NoticeDelivery1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE notice
        ADD COLUMN card_id              uuid REFERENCES card(id),
        ADD COLUMN event_key            text,
        ADD COLUMN addressee            text NOT NULL DEFAULT 'holder',
        ADD COLUMN recipient            text,
        ADD COLUMN recipient_sha256     bytea,
        ADD COLUMN provider_message_id  text,
        ADD COLUMN last_attempt_at      timestamptz,
        ADD COLUMN claimed_until        timestamptz;

      UPDATE notice n SET card_id = c.card_id FROM certificate c WHERE c.id = n.certificate_id AND n.card_id IS NULL;
      UPDATE notice SET event_key = 'legacy:' || id
        WHERE event_key IS NULL AND kind NOT IN ('renewal-window-opened', 'expired-but-renewable', 'renewal-window-closing',
                                                 'reissuance-window-opened', 'reissuance-window-closing');

      ALTER TABLE notice DROP CONSTRAINT notice_state_check;
      ALTER TABLE notice
        ADD CONSTRAINT notice_state_check CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
        ADD CONSTRAINT notice_kind_check CHECK (kind IN (
          'renewal-window-opened', 'expired-but-renewable', 'renewal-window-closing',
          'reissuance-window-opened', 'reissuance-window-closing',
          'certificate-issued', 'certificate-suspended', 'certificate-resumed', 'certificate-revoked',
          'contact-details-changed')),
        ADD CONSTRAINT notice_addressee_check CHECK (addressee IN ('holder', 'previous-contact')),
        -- lifecycle notices belong to a card and its schedule; transactional ones to an event
        ADD CONSTRAINT notice_occasion_check CHECK (
          CASE WHEN kind IN ('renewal-window-opened', 'expired-but-renewable', 'renewal-window-closing',
                             'reissuance-window-opened', 'reissuance-window-closing')
               THEN event_key IS NULL AND card_id IS NOT NULL
               ELSE event_key IS NOT NULL END),
        -- the previous contact cannot be read from holder: its address is kept until the notice is sent
        ADD CONSTRAINT notice_previous_contact_check CHECK (
          addressee = 'holder' OR state IN ('sent', 'skipped') OR recipient IS NOT NULL),
        ADD CONSTRAINT notice_sent_check CHECK (state <> 'sent' OR sent_at IS NOT NULL);

      DROP INDEX notice_once;
      CREATE UNIQUE INDEX notice_once_per_card ON notice (card_id, kind, channel, due_at) WHERE event_key IS NULL;
      CREATE UNIQUE INDEX notice_once_per_event ON notice (event_key, kind, channel, addressee) WHERE event_key IS NOT NULL;
      CREATE INDEX notice_open ON notice (state, id) WHERE state IN ('pending', 'sending', 'failed');
      CREATE INDEX notice_sent_recent ON notice (sent_at) WHERE sent_at IS NOT NULL;
      CREATE INDEX notice_holder ON notice (holder_id);

      CREATE TABLE notice_scan (
        id               smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        scanned_through  timestamptz NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Transactional notices of the same certificate, kind and channel cannot
    // coexist under the old index: keep the first of each.
    await q.query(`
      DROP TABLE IF EXISTS notice_scan;
      DROP INDEX IF EXISTS notice_holder;
      DROP INDEX IF EXISTS notice_sent_recent;
      DROP INDEX IF EXISTS notice_open;
      DROP INDEX IF EXISTS notice_once_per_event;
      DROP INDEX IF EXISTS notice_once_per_card;
      DELETE FROM notice n USING notice m
        WHERE n.certificate_id = m.certificate_id AND n.kind = m.kind AND n.channel = m.channel AND n.id > m.id;
      UPDATE notice SET state = 'pending' WHERE state = 'sending';
      ALTER TABLE notice
        DROP CONSTRAINT notice_sent_check,
        DROP CONSTRAINT notice_previous_contact_check,
        DROP CONSTRAINT notice_occasion_check,
        DROP CONSTRAINT notice_addressee_check,
        DROP CONSTRAINT notice_kind_check,
        DROP CONSTRAINT notice_state_check;
      ALTER TABLE notice ADD CONSTRAINT notice_state_check CHECK (state IN ('pending', 'sent', 'failed', 'skipped'));
      CREATE UNIQUE INDEX notice_once ON notice (certificate_id, kind, channel) WHERE certificate_id IS NOT NULL;
      ALTER TABLE notice
        DROP COLUMN claimed_until,
        DROP COLUMN last_attempt_at,
        DROP COLUMN provider_message_id,
        DROP COLUMN recipient_sha256,
        DROP COLUMN recipient,
        DROP COLUMN addressee,
        DROP COLUMN event_key,
        DROP COLUMN card_id;
    `);
  }
}
