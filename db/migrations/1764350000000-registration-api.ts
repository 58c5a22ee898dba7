import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the registration API (issue 5) needs beyond the initial schema:
 * who suspended a certificate (a court's suspension is lifted only by a
 * court), the products of certified RSA moduli for the shared-prime check,
 * one-time challenges for card-signature log-in, and verification codes for
 * contact changes.
 */
export class RegistrationApi1764350000000 implements MigrationInterface {
  name = 'RegistrationApi1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE certificate ADD COLUMN suspended_by text CHECK (suspended_by IN ('holder', 'court-order'));
      ALTER TABLE certificate ADD CONSTRAINT certificate_suspended_by
        CHECK ((status = 'suspended') = (suspended_by IS NOT NULL));
      ALTER TABLE certificate ADD COLUMN email_in_certificate text;

      -- Shared-prime index (DOMAIN.md, the 2013 factorisations): products of
      -- certified RSA moduli in chunks; a new modulus is checked by one gcd.
      CREATE TABLE rsa_modulus_product (
        id          serial PRIMARY KEY,
        product     bytea NOT NULL,
        moduli      integer NOT NULL CHECK (moduli > 0),
        version     bigint NOT NULL DEFAULT 1,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      -- One-time challenges for the holder's card-signature log-in.
      CREATE TABLE holder_challenge (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        challenge    bytea NOT NULL UNIQUE,
        card_number  text NOT NULL,
        purpose      text NOT NULL,
        expires_at   timestamptz NOT NULL,
        used_at      timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX holder_challenge_expiry ON holder_challenge (expires_at);

      -- Verification codes for contact changes (SMS to the new mobile, e-mail to the new address).
      CREATE TABLE verification_code (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        holder_id    uuid NOT NULL REFERENCES holder(id),
        purpose      text NOT NULL CHECK (purpose IN ('change-mobile-number', 'change-contact-email', 'add-email-to-certificate')),
        new_value    text NOT NULL,
        code_hash    bytea NOT NULL,
        attempts     integer NOT NULL DEFAULT 0,
        expires_at   timestamptz NOT NULL,
        used_at      timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX verification_code_holder ON verification_code (holder_id, purpose);

      -- The holder's current card (the one the online channels act on).
      CREATE INDEX certificate_card_status ON certificate (card_id, status);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX IF EXISTS certificate_card_status;
      DROP TABLE IF EXISTS verification_code;
      DROP TABLE IF EXISTS holder_challenge;
      DROP TABLE IF EXISTS rsa_modulus_product;
      ALTER TABLE certificate DROP COLUMN IF EXISTS email_in_certificate;
      ALTER TABLE certificate DROP CONSTRAINT IF EXISTS certificate_suspended_by;
      ALTER TABLE certificate DROP COLUMN IF EXISTS suspended_by;
    `);
  }
}
