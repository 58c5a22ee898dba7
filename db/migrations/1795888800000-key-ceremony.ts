import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The key-ceremony tool (issue 4).
 *
 * - `ca_certificate_request`: an issuing CA whose key exists but whose
 *   certificate an external parent (e.g. the government root) has not yet
 *   returned. It is kept apart from `certificate_authority`, whose rows always
 *   carry a certificate and are loaded by the apps' key rings; the row moves
 *   there when the parent's certificate is imported.
 * - `key_operation_approval` records who executed an operation and what it
 *   produced, and the database refuses to change an operation, its
 *   parameters, its requester or its quorum after the request (M-of-N
 *   approvals are for exactly those parameters), to reopen a decided request,
 *   or to delete one.
 */
export class KeyCeremony1795888800000 implements MigrationInterface {
  name = 'KeyCeremony1795888800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ca_certificate_request (
        id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name                    text NOT NULL UNIQUE,      -- the CA name once imported
        subject_dn              text NOT NULL,
        key_location            text NOT NULL UNIQUE,
        key_algorithm           text NOT NULL,
        csr_der                 bytea NOT NULL,            -- PKCS#10 (RFC 2986) sent to the parent
        spki_sha256             bytea NOT NULL,
        state                   text NOT NULL DEFAULT 'pending-parent-certificate'
                                  CHECK (state IN ('pending-parent-certificate', 'imported')),
        approval_id             uuid NOT NULL REFERENCES key_operation_approval(id),
        ca_id                   uuid UNIQUE REFERENCES certificate_authority(id),
        parent_certificate_der  bytea,
        created_at              timestamptz NOT NULL DEFAULT now(),
        imported_at             timestamptz,
        CHECK ((state = 'imported') = (ca_id IS NOT NULL AND imported_at IS NOT NULL))
      );

      ALTER TABLE key_operation_approval
        ADD COLUMN executed_at timestamptz,
        ADD COLUMN executed_by text,
        ADD COLUMN result      jsonb,
        ADD CONSTRAINT key_operation_approval_executed
          CHECK ((state = 'executed') = (executed_at IS NOT NULL AND executed_by IS NOT NULL AND result IS NOT NULL));

      CREATE FUNCTION key_operation_approval_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'key_operation_approval rows are kept: DELETE refused' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.operation IS DISTINCT FROM OLD.operation OR NEW.parameters IS DISTINCT FROM OLD.parameters
           OR NEW.requested_by IS DISTINCT FROM OLD.requested_by OR NEW.required IS DISTINCT FROM OLD.required
           OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
          RAISE EXCEPTION 'key operation % was requested with fixed parameters: they cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.state IN ('executed', 'rejected') THEN
          RAISE EXCEPTION 'key operation % is % and final', OLD.id, OLD.state USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.state = 'approved' AND NEW.state NOT IN ('approved', 'executed', 'rejected') THEN
          RAISE EXCEPTION 'key operation % cannot go back from approved to %', OLD.id, NEW.state USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER key_operation_approval_guard BEFORE UPDATE OR DELETE ON key_operation_approval
        FOR EACH ROW EXECUTE FUNCTION key_operation_approval_guard();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS ca_certificate_request;
      DROP TRIGGER IF EXISTS key_operation_approval_guard ON key_operation_approval;
      DROP FUNCTION IF EXISTS key_operation_approval_guard();
      ALTER TABLE key_operation_approval
        DROP CONSTRAINT IF EXISTS key_operation_approval_executed,
        DROP COLUMN IF EXISTS result,
        DROP COLUMN IF EXISTS executed_by,
        DROP COLUMN IF EXISTS executed_at;
    `);
  }
}
