import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit chain forked under concurrent appends. The initial schema drew
 * a row's id from the column default, before the chain trigger took its
 * lock: a transaction could draw id N, lose the lock to one that drew N+1
 * and committed, then link row N after row N+1. Verification walks the
 * chain in id order and found row N's link broken (CI saw it; 10 writers
 * broke it at the second row).
 *
 * Now the chain's head is one row, `audit_chain_head`, locked FOR UPDATE by
 * every append until commit, and the trigger draws the id only once it
 * holds that lock, so id order is the order of the chain. The row lock also
 * settles transactions whose snapshot is older than the head (REPEATABLE
 * READ): PostgreSQL refuses them with a serialization failure (40001) where
 * reading the newest audit row would have linked to a stale one.
 *
 * The head is written by the chain trigger only; any other UPDATE, INSERT,
 * DELETE or TRUNCATE is refused. Rows already forked stay as they are (the
 * log is append-only): verification still names them.
 */
export class AuditChainHead1796310000000 implements MigrationInterface {
  name = 'AuditChainHead1796310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      LOCK TABLE audit_log IN EXCLUSIVE MODE;

      CREATE TABLE audit_chain_head (
        singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        last_id    bigint,
        hash       bytea NOT NULL
      );
      INSERT INTO audit_chain_head (last_id, hash)
        SELECT max(id), coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '\\x'::bytea) FROM audit_log;

      CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Depth 1 is a statement on the head itself; the chain trigger's own UPDATE runs at depth 2.
        IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN RETURN NEW; END IF;
        RAISE EXCEPTION 'audit_chain_head is written by the audit chain trigger only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_chain_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_chain_head
        FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
      CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard();

      -- The id is drawn by the chain trigger, under the head's lock.
      ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;

      CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE last_hash bytea;
      BEGIN
        -- Serialises appends (row lock held until commit). A REPEATABLE READ transaction
        -- whose snapshot predates the head gets a serialization failure here, never a fork.
        SELECT hash INTO STRICT last_hash FROM audit_chain_head FOR UPDATE;
        NEW.id := nextval('audit_log_id_seq'::regclass);
        NEW.prev_hash := last_hash;
        NEW.hash := audit_log_digest(NEW.prev_hash, NEW);
        UPDATE audit_chain_head SET last_id = NEW.id, hash = NEW.hash;
        RETURN NEW;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE last_hash bytea;
      BEGIN
        PERFORM pg_advisory_xact_lock(727160001);
        SELECT hash INTO last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
        NEW.prev_hash := coalesce(last_hash, '\\x'::bytea);
        NEW.hash := audit_log_digest(NEW.prev_hash, NEW);
        RETURN NEW;
      END $$;
      ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq'::regclass);
      DROP TABLE IF EXISTS audit_chain_head;
      DROP FUNCTION IF EXISTS audit_chain_head_guard();
    `);
  }
}
