import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9, online re-issuance (線上換發, docs/reissuance.md): what an order
 * carries beyond the initial schema (its number at the payment gateway, the
 * personalisation printed on the card, payment, production, shipping and
 * activation times), the card bureau's production batches, and the payment
 * outcomes. The database keeps the order consistent with its state.
 */
export class OnlineReissuance1795891900000 implements MigrationInterface {
  name = 'OnlineReissuance1795891900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE SEQUENCE reissuance_order_number_seq;

      -- One export of paid orders to the card bureau (personalisation data).
      CREATE TABLE reissuance_production_batch (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        exported_at  timestamptz NOT NULL,
        exported_by  uuid NOT NULL REFERENCES staff_member(id),
        order_count  integer NOT NULL CHECK (order_count > 0)
      );

      ALTER TABLE reissuance_order
        ADD COLUMN order_number        text UNIQUE CHECK (order_number ~ '^[A-Z0-9]{1,20}$'),
        ADD COLUMN old_certificate_id  uuid REFERENCES certificate(id),
        ADD COLUMN printed_name        text,
        ADD COLUMN card_valid_until    timestamptz,
        ADD COLUMN payment_provider    text,
        ADD COLUMN bank_code           text,
        ADD COLUMN paid_at             timestamptz,
        ADD COLUMN production_batch_id uuid REFERENCES reissuance_production_batch(id),
        ADD COLUMN delivery_earliest   date,
        ADD COLUMN delivery_latest     date,
        ADD COLUMN shipped_at          timestamptz,
        ADD COLUMN delivered_at        timestamptz,
        ADD COLUMN activated_at        timestamptz,
        ADD COLUMN closed_at           timestamptz,
        ADD COLUMN refund_due          boolean NOT NULL DEFAULT false,
        -- Checkouts so far; the gateway's MerchantTradeNo is the order number + P + the attempt (a gateway refuses a number twice).
        ADD COLUMN payment_attempt     integer NOT NULL DEFAULT 0 CHECK (payment_attempt BETWEEN 0 AND 9),
        ADD CONSTRAINT reissuance_order_paid CHECK (state IN ('created', 'awaiting_payment', 'expired') OR (state = 'cancelled' AND paid_at IS NULL) OR paid_at IS NOT NULL),
        ADD CONSTRAINT reissuance_order_produced CHECK (state NOT IN ('in_production', 'shipped', 'delivered', 'activated') OR (production_batch_id IS NOT NULL AND card_valid_until IS NOT NULL)),
        ADD CONSTRAINT reissuance_order_shipped CHECK (state NOT IN ('shipped', 'delivered', 'activated') OR (new_card_id IS NOT NULL AND tracking_number IS NOT NULL AND shipped_at IS NOT NULL)),
        ADD CONSTRAINT reissuance_order_refund CHECK (NOT refund_due OR state = 'cancelled');
      CREATE INDEX reissuance_order_state ON reissuance_order (state, payment_deadline);
      CREATE UNIQUE INDEX reissuance_order_new_card ON reissuance_order (new_card_id) WHERE new_card_id IS NOT NULL;

      -- What happened to each notification of a payment: applied to its order, or kept and flagged for an operator.
      ALTER TABLE payment
        ADD COLUMN outcome text NOT NULL DEFAULT 'applied'
          CHECK (outcome IN ('applied', 'amount-mismatch', 'late', 'order-not-awaiting-payment', 'unknown-order', 'not-paid'));
      ALTER TABLE payment ADD CONSTRAINT payment_flagged CHECK ((outcome = 'applied') = (flagged IS NULL));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE payment DROP CONSTRAINT IF EXISTS payment_flagged;
      ALTER TABLE payment DROP COLUMN IF EXISTS outcome;
      DROP INDEX IF EXISTS reissuance_order_new_card;
      DROP INDEX IF EXISTS reissuance_order_state;
      ALTER TABLE reissuance_order
        DROP CONSTRAINT IF EXISTS reissuance_order_refund,
        DROP CONSTRAINT IF EXISTS reissuance_order_shipped,
        DROP CONSTRAINT IF EXISTS reissuance_order_produced,
        DROP CONSTRAINT IF EXISTS reissuance_order_paid,
        DROP COLUMN IF EXISTS payment_attempt,
        DROP COLUMN IF EXISTS refund_due,
        DROP COLUMN IF EXISTS closed_at,
        DROP COLUMN IF EXISTS activated_at,
        DROP COLUMN IF EXISTS delivered_at,
        DROP COLUMN IF EXISTS shipped_at,
        DROP COLUMN IF EXISTS delivery_latest,
        DROP COLUMN IF EXISTS delivery_earliest,
        DROP COLUMN IF EXISTS production_batch_id,
        DROP COLUMN IF EXISTS paid_at,
        DROP COLUMN IF EXISTS bank_code,
        DROP COLUMN IF EXISTS payment_provider,
        DROP COLUMN IF EXISTS card_valid_until,
        DROP COLUMN IF EXISTS printed_name,
        DROP COLUMN IF EXISTS old_certificate_id,
        DROP COLUMN IF EXISTS order_number;
      DROP TABLE IF EXISTS reissuance_production_batch;
      DROP SEQUENCE IF EXISTS reissuance_order_number_seq;
    `);
  }
}
