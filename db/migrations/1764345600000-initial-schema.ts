import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The initial schema: everything the mission needs, so later features extend
 * it rather than redo it (issue 2). The database enforces the invariants it
 * can (STYLE.md rule 4): unique serials, allowed status values, revocation
 * reasons consistent with status, an append-only hash-chained audit log.
 *
 * Personal data: the national ID number is stored only encrypted
 * (national_id_ciphertext, AES-256-GCM by the app) plus a keyed hash
 * (national_id_hmac, HMAC-SHA-256) for look-ups; its last 4 digits are kept
 * in clear because the certificate profile publishes them anyway.
 */
export class InitialSchema1764345600000 implements MigrationInterface {
  name = 'InitialSchema1764345600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Issuing CAs and their keys. Never key material: only where the key lives
      -- (software:<file> or pkcs11:<uri>), RFC 7512-style.
      CREATE TABLE certificate_authority (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name             text NOT NULL UNIQUE,
        role             text NOT NULL CHECK (role IN ('root', 'issuing')),
        parent_id        uuid REFERENCES certificate_authority(id),
        subject_dn       text NOT NULL,
        certificate_der  bytea NOT NULL,
        key_location     text NOT NULL,
        key_algorithm    text NOT NULL,
        spki_sha1        bytea NOT NULL,           -- OCSP issuerKeyHash (SHA-1)
        spki_sha256      bytea NOT NULL,           -- OCSP issuerKeyHash (SHA-256)
        subject_sha1     bytea NOT NULL,           -- OCSP issuerNameHash (SHA-1)
        subject_sha256   bytea NOT NULL,           -- OCSP issuerNameHash (SHA-256)
        not_before       timestamptz NOT NULL,
        not_after        timestamptz NOT NULL,
        active           boolean NOT NULL DEFAULT true,
        development      boolean NOT NULL DEFAULT false,
        crl_partitions   integer NOT NULL DEFAULT 16 CHECK (crl_partitions BETWEEN 1 AND 4096),
        expired_certs_on_crl boolean NOT NULL DEFAULT false,
        -- RFC 5280 §5.2.3: one strictly increasing sequence for complete, partition and delta CRLs.
        last_crl_number  bigint NOT NULL DEFAULT 0 CHECK (last_crl_number >= 0),
        created_at       timestamptz NOT NULL DEFAULT now(),
        CHECK (role <> 'root' OR parent_id IS NULL)
      );

      -- Delegated OCSP signers (RFC 6960 §4.2.2.2), one active per CA at a time.
      CREATE TABLE ocsp_signer (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        ca_id            uuid NOT NULL REFERENCES certificate_authority(id),
        certificate_der  bytea NOT NULL,
        key_location     text NOT NULL,
        key_algorithm    text NOT NULL,
        not_before       timestamptz NOT NULL,
        not_after        timestamptz NOT NULL,
        active           boolean NOT NULL DEFAULT true,
        created_at       timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX ocsp_signer_one_active ON ocsp_signer (ca_id) WHERE active;

      -- Registration offices (household-registration offices) and their staff.
      CREATE TABLE registration_office (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code        text NOT NULL UNIQUE,
        name        text NOT NULL,
        active      boolean NOT NULL DEFAULT true,
        created_at  timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE staff_member (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        office_id   uuid REFERENCES registration_office(id),
        name        text NOT NULL,
        role        text NOT NULL CHECK (role IN ('clerk', 'supervisor', 'operator', 'auditor')),
        active      boolean NOT NULL DEFAULT true,
        created_at  timestamptz NOT NULL DEFAULT now(),
        -- clerks and supervisors act for exactly one office
        CHECK (role NOT IN ('clerk', 'supervisor') OR office_id IS NOT NULL)
      );

      -- Credentials: API tokens stored only as SHA-256 hashes, or mTLS client
      -- certificates by fingerprint.
      CREATE TABLE api_credential (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        staff_id          uuid NOT NULL REFERENCES staff_member(id),
        kind              text NOT NULL CHECK (kind IN ('token', 'mtls')),
        secret_hash       bytea UNIQUE,
        cert_sha256       bytea UNIQUE,
        description       text,
        expires_at        timestamptz,
        revoked_at        timestamptz,
        created_at        timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'token') = (secret_hash IS NOT NULL)),
        CHECK ((kind = 'mtls') = (cert_sha256 IS NOT NULL))
      );

      CREATE TABLE holder (
        id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        holder_number           char(16) NOT NULL UNIQUE CHECK (holder_number ~ '^[0-9]{16}$'),
        name                    text NOT NULL,
        national_id_ciphertext  bytea NOT NULL,
        national_id_hmac        bytea NOT NULL UNIQUE,
        national_id_last4       char(4) NOT NULL CHECK (national_id_last4 ~ '^[0-9]{4}$'),
        date_of_birth           date NOT NULL,
        mobile                  text NOT NULL,
        contact_email           text NOT NULL,
        publication_consent     boolean NOT NULL DEFAULT false,
        user_code_hash          text NOT NULL,
        user_code_failures      integer NOT NULL DEFAULT 0 CHECK (user_code_failures >= 0),
        user_code_locked_until  timestamptz,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE card (
        id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        holder_id             uuid NOT NULL REFERENCES holder(id),
        card_number           text NOT NULL UNIQUE,
        issued_at             timestamptz NOT NULL,
        cap_at                timestamptz NOT NULL,   -- DOMAIN.md: issuedAt + 8 years, hard cap
        unblock_key_version   integer NOT NULL DEFAULT 1,
        replaced_by_card_id   uuid REFERENCES card(id),
        created_at            timestamptz NOT NULL DEFAULT now(),
        CHECK (cap_at > issued_at)
      );
      CREATE INDEX card_holder ON card (holder_id);

      -- Certificates. 'pending' rows hold the to-be-signed certificate recorded
      -- before the signature (never sign what was not recorded first).
      CREATE TABLE certificate (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        ca_id              uuid NOT NULL REFERENCES certificate_authority(id),
        card_id            uuid REFERENCES card(id),
        serial             bytea NOT NULL UNIQUE CHECK (octet_length(serial) BETWEEN 1 AND 20),
        kind               text NOT NULL CHECK (kind IN ('signature', 'encryption', 'ocsp-signer')),
        status             text NOT NULL CHECK (status IN ('pending', 'on_hold', 'valid', 'suspended', 'revoked', 'abandoned')),
        not_before         timestamptz NOT NULL,
        not_after          timestamptz NOT NULL,
        tbs_der            bytea NOT NULL,
        der                bytea,
        spki_sha256        bytea NOT NULL,
        crl_partition      integer NOT NULL CHECK (crl_partition >= 0),
        renewed_from_id    uuid REFERENCES certificate(id),
        revoked_at         timestamptz,
        revocation_reason  smallint CHECK (revocation_reason IN (0, 1, 2, 3, 4, 5, 6, 9, 10)),
        invalidity_date    timestamptz,
        -- DER of the CRL entry, written at revocation/suspension so CRLs stream it (issue 7)
        crl_entry_der      bytea,
        status_changed_at  timestamptz NOT NULL DEFAULT now(),
        created_at         timestamptz NOT NULL DEFAULT now(),
        CHECK (not_after > not_before),
        CHECK (status IN ('pending', 'abandoned') OR der IS NOT NULL),
        -- RFC 5280 §5.3.1: a suspended certificate is on the CRL with certificateHold (6);
        -- 'on_hold' (issued on hold until activation) is the same on the wire.
        CHECK (status NOT IN ('suspended', 'on_hold') OR (revoked_at IS NOT NULL AND revocation_reason = 6)),
        CHECK (status <> 'revoked' OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL AND revocation_reason <> 6)),
        CHECK (status NOT IN ('pending', 'valid', 'abandoned') OR (revoked_at IS NULL AND revocation_reason IS NULL))
      );
      CREATE INDEX certificate_card ON certificate (card_id);
      CREATE INDEX certificate_not_after ON certificate (not_after);
      CREATE INDEX certificate_spki ON certificate (spki_sha256);
      CREATE INDEX certificate_revoked ON certificate (ca_id, crl_partition) WHERE status IN ('revoked', 'suspended', 'on_hold');
      CREATE INDEX certificate_pending ON certificate (created_at) WHERE status = 'pending';

      -- Revoked is final (CPS 4.9): the database refuses to bring a revoked certificate back.
      CREATE FUNCTION certificate_revoked_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status = 'revoked' AND NEW.status <> 'revoked' THEN
          RAISE EXCEPTION 'certificate % is revoked; revocation is final', encode(OLD.serial, 'hex')
            USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.der IS NOT NULL AND NEW.der IS DISTINCT FROM OLD.der THEN
          RAISE EXCEPTION 'certificate % is signed; its DER cannot change', encode(OLD.serial, 'hex')
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER certificate_revoked_is_final BEFORE UPDATE ON certificate
        FOR EACH ROW EXECUTE FUNCTION certificate_revoked_is_final();

      CREATE TABLE certificate_status_event (
        id              bigserial PRIMARY KEY,
        certificate_id  uuid NOT NULL REFERENCES certificate(id),
        from_status     text,
        to_status       text NOT NULL,
        reason          smallint,
        at              timestamptz NOT NULL,
        actor_kind      text NOT NULL,
        actor_id        text,
        detail          jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX certificate_status_event_cert ON certificate_status_event (certificate_id, id);
      CREATE INDEX certificate_status_event_at ON certificate_status_event (at);

      -- DOMAIN.md 委託代辦: who acted for the holder, with what.
      CREATE TABLE delegation (
        id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        holder_id               uuid NOT NULL REFERENCES holder(id),
        operation               text NOT NULL,
        delegate_name           text NOT NULL,
        delegate_id_ciphertext  bytea NOT NULL,
        delegate_id_hmac        bytea NOT NULL,
        form_reference          text NOT NULL,
        holder_card_presented   boolean NOT NULL,
        staff_id                uuid NOT NULL REFERENCES staff_member(id),
        office_id               uuid NOT NULL REFERENCES registration_office(id),
        created_at              timestamptz NOT NULL DEFAULT now()
      );

      -- 線上換發: online re-issuance orders and their payments.
      CREATE TABLE reissuance_order (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        holder_id         uuid NOT NULL REFERENCES holder(id),
        old_card_id       uuid NOT NULL REFERENCES card(id),
        new_card_id       uuid REFERENCES card(id),
        state             text NOT NULL CHECK (state IN ('created', 'awaiting_payment', 'paid', 'in_production',
                                   'shipped', 'delivered', 'activated', 'expired', 'cancelled')),
        amount_twd        integer NOT NULL CHECK (amount_twd > 0),
        payment_method    text CHECK (payment_method IN ('atm', 'credit_card')),
        virtual_account   text UNIQUE,
        payment_deadline  timestamptz,
        postal_code       text,
        address           text,
        tracking_number   text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX reissuance_order_one_open ON reissuance_order (old_card_id)
        WHERE state NOT IN ('expired', 'cancelled', 'activated');

      CREATE TABLE payment (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id           uuid REFERENCES reissuance_order(id),
        provider           text NOT NULL,
        provider_trade_no  text NOT NULL,
        amount_twd         integer NOT NULL,
        paid_at            timestamptz NOT NULL,
        flagged            text,            -- why it needs an operator (late, wrong amount)
        raw                jsonb NOT NULL,
        received_at        timestamptz NOT NULL DEFAULT now(),
        UNIQUE (provider, provider_trade_no)
      );

      -- Notices to holders: exactly once per certificate and kind (issue 8).
      CREATE TABLE notice (
        id              bigserial PRIMARY KEY,
        certificate_id  uuid REFERENCES certificate(id),
        holder_id       uuid NOT NULL REFERENCES holder(id),
        kind            text NOT NULL,
        channel         text NOT NULL CHECK (channel IN ('email', 'sms')),
        due_at          timestamptz NOT NULL,
        state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        sent_at         timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX notice_once ON notice (certificate_id, kind, channel) WHERE certificate_id IS NOT NULL;

      -- Published CRLs (issue 7). CRL numbers are unique per CA across kinds.
      CREATE TABLE published_crl (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        ca_id             uuid NOT NULL REFERENCES certificate_authority(id),
        crl_number        bigint NOT NULL CHECK (crl_number > 0),
        kind              text NOT NULL CHECK (kind IN ('complete', 'partition', 'delta')),
        partition         integer,
        base_crl_number   bigint,
        this_update       timestamptz NOT NULL,
        next_update       timestamptz NOT NULL,
        entry_count       integer NOT NULL,
        byte_size         integer NOT NULL,
        sha256            bytea NOT NULL,
        der               bytea NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        UNIQUE (ca_id, crl_number),
        CHECK ((kind = 'partition') = (partition IS NOT NULL)),
        CHECK ((kind = 'delta') = (base_crl_number IS NOT NULL)),
        CHECK (next_update > this_update)
      );
      CREATE INDEX published_crl_latest ON published_crl (ca_id, kind, partition, crl_number DESC);

      CREATE TABLE crl_schedule (
        id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        ca_id                 uuid NOT NULL REFERENCES certificate_authority(id),
        kind                  text NOT NULL CHECK (kind IN ('complete', 'partition', 'delta')),
        cron                  text,
        interval_seconds      integer CHECK (interval_seconds > 0),
        next_update_seconds   integer NOT NULL CHECK (next_update_seconds > 0),
        enabled               boolean NOT NULL DEFAULT true,
        updated_at            timestamptz NOT NULL DEFAULT now(),
        UNIQUE (ca_id, kind),
        CHECK ((cron IS NULL) <> (interval_seconds IS NULL))
      );

      -- Pre-signed OCSP responses (RFC 5019 §2.2.2), one per certificate and CertID hash.
      CREATE TABLE ocsp_response (
        certificate_id  uuid NOT NULL REFERENCES certificate(id),
        hash_algorithm  text NOT NULL CHECK (hash_algorithm IN ('sha1', 'sha256')),
        der             bytea NOT NULL,
        this_update     timestamptz NOT NULL,
        next_update     timestamptz NOT NULL,
        produced_at     timestamptz NOT NULL,
        PRIMARY KEY (certificate_id, hash_algorithm)
      );
      CREATE INDEX ocsp_response_refresh ON ocsp_response (next_update);

      -- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): first answer replayed.
      CREATE TABLE idempotency_key (
        principal        text NOT NULL,
        key              text NOT NULL,
        request_sha256   bytea NOT NULL,
        response_status  integer,
        response_body    jsonb,
        created_at       timestamptz NOT NULL DEFAULT now(),
        completed_at     timestamptz,
        PRIMARY KEY (principal, key)
      );

      -- M-of-N approvals for key operations (key ceremony).
      CREATE TABLE key_operation_approval (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operation     text NOT NULL,
        parameters    jsonb NOT NULL,
        requested_by  text NOT NULL,
        required      integer NOT NULL CHECK (required >= 2),
        approvals     jsonb NOT NULL DEFAULT '[]',
        state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'executed')),
        created_at    timestamptz NOT NULL DEFAULT now(),
        decided_at    timestamptz
      );

      -- The audit log: append-only, hash-chained. Each row's hash is
      -- sha256(prev_hash || canonical text of the row), computed by the
      -- database itself so no writer can skip or forge a link.
      CREATE TABLE audit_log (
        id            bigserial PRIMARY KEY,
        at            timestamptz NOT NULL,
        actor_kind    text NOT NULL,
        actor_id      text,
        office_id     uuid,
        operation     text NOT NULL,
        subject_kind  text,
        subject_id    text,
        delegate      jsonb,
        before        jsonb,
        after         jsonb,
        detail        jsonb NOT NULL DEFAULT '{}',
        prev_hash     bytea NOT NULL,
        hash          bytea NOT NULL
      );
      CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_id);
      CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
      CREATE INDEX audit_log_at ON audit_log (at);

      CREATE FUNCTION audit_log_digest(prev bytea, r audit_log) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
        SELECT sha256(prev || convert_to(concat_ws(E'\\x1f',
          r.id::text,
          to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          r.actor_kind, coalesce(r.actor_id, ''), coalesce(r.office_id::text, ''),
          r.operation, coalesce(r.subject_kind, ''), coalesce(r.subject_id, ''),
          coalesce(r.delegate::text, ''), coalesce(r.before::text, ''), coalesce(r.after::text, ''),
          r.detail::text), 'UTF8'))
      $$;

      CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE last_hash bytea;
      BEGIN
        -- Serialise appends so the chain has no forks; held until commit.
        PERFORM pg_advisory_xact_lock(727160001);
        SELECT hash INTO last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
        NEW.prev_hash := coalesce(last_hash, '\\x'::bytea);
        NEW.hash := audit_log_digest(NEW.prev_hash, NEW);
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS audit_log CASCADE;
      DROP FUNCTION IF EXISTS audit_log_append_only();
      DROP FUNCTION IF EXISTS audit_log_chain();
      DROP FUNCTION IF EXISTS audit_log_digest(bytea, audit_log);
      DROP TABLE IF EXISTS key_operation_approval;
      DROP TABLE IF EXISTS idempotency_key;
      DROP TABLE IF EXISTS ocsp_response;
      DROP TABLE IF EXISTS crl_schedule;
      DROP TABLE IF EXISTS published_crl;
      DROP TABLE IF EXISTS notice;
      DROP TABLE IF EXISTS payment;
      DROP TABLE IF EXISTS reissuance_order;
      DROP TABLE IF EXISTS delegation;
      DROP TABLE IF EXISTS certificate_status_event;
      DROP TABLE IF EXISTS certificate;
      DROP FUNCTION IF EXISTS certificate_revoked_is_final();
      DROP TABLE IF EXISTS card;
      DROP TABLE IF EXISTS holder;
      DROP TABLE IF EXISTS api_credential;
      DROP TABLE IF EXISTS staff_member;
      DROP TABLE IF EXISTS registration_office;
      DROP TABLE IF EXISTS ocsp_signer;
      DROP TABLE IF EXISTS certificate_authority;
    `);
  }
}
