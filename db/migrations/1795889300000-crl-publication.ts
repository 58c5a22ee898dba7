import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CRL publication (issue 7, docs/crl.md).
 *
 * - `certificate_status_event.xid`: the transaction that recorded the change
 *   (`pg_current_xact_id()`, filled by default, so writers need not name it).
 *   A delta CRL lists exactly the certificates whose events are *not visible*
 *   in the snapshot its base CRL was built from (`published_crl.source_snapshot`):
 *   exact under concurrency, unlike comparing timestamps, because a change
 *   committed after the base's snapshot is invisible to it whatever its clock said.
 * - `published_crl`: delta CRLs may now belong to a partition (the delta of
 *   partition p, which certificates name in freshestCRL); each row records
 *   the snapshot it was built from and the publication (slot) that made it,
 *   at most one CRL per publication and scope.
 * - `crl_publication`: one row per (CA, kind, slot): the "exactly once per
 *   slot" record. Scheduled slots, operator "publish now" requests and
 *   watchdog recoveries all go through it.
 * - `certificate_crl_entries`: a covering partial index, so the entries of
 *   a CRL come from an index-only scan whatever the size of the certificate table.
 * - `crl_schedule.cron_time_zone`: cron expressions are read in this zone
 *   (operators in Taiwan write "0 0 * * *" meaning midnight in Taipei).
 */
export class CrlPublication1795889300000 implements MigrationInterface {
  name = 'CrlPublication1795889300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE certificate_status_event ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
      CREATE INDEX certificate_status_event_xid ON certificate_status_event (xid);

      -- What complete and partition CRLs read, as an index-only scan: CRL generation
      -- does not touch the certificate heap (10 million rows of full DER).
      CREATE INDEX certificate_crl_entries ON certificate (ca_id, crl_partition) INCLUDE (not_after, crl_entry_der)
        WHERE status IN ('revoked', 'suspended', 'on_hold');

      CREATE TABLE crl_publication (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        ca_id         uuid NOT NULL REFERENCES certificate_authority(id),
        kind          text NOT NULL CHECK (kind IN ('complete', 'partition', 'delta')),
        slot_at       timestamptz NOT NULL,
        trigger       text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'recovery')),
        requested_by  text,
        state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'failing', 'published')),
        attempts      integer NOT NULL DEFAULT 0,
        last_error    text,
        requested_at  timestamptz NOT NULL DEFAULT now(),
        published_at  timestamptz,
        UNIQUE (ca_id, kind, slot_at),
        CHECK ((state = 'published') = (published_at IS NOT NULL))
      );
      CREATE INDEX crl_publication_open ON crl_publication (ca_id, kind) WHERE state <> 'published';

      DO $$
      DECLARE c record;
      BEGIN
        FOR c IN SELECT conname FROM pg_constraint
                  WHERE conrelid = 'published_crl'::regclass AND contype = 'c'
                    AND pg_get_constraintdef(oid) LIKE '%partition IS NOT NULL%' LOOP
          EXECUTE format('ALTER TABLE published_crl DROP CONSTRAINT %I', c.conname);
        END LOOP;
      END $$;
      ALTER TABLE published_crl
        ADD CONSTRAINT published_crl_partition_scope
          CHECK (kind = 'delta' OR (kind = 'partition') = (partition IS NOT NULL)),
        ADD COLUMN source_snapshot pg_snapshot,
        ADD COLUMN publication_id uuid REFERENCES crl_publication(id);
      -- A signed CRL does not compress (and a 48 MB one would spend its publication compressing):
      -- store it out of line, uncompressed.
      ALTER TABLE published_crl ALTER COLUMN der SET STORAGE EXTERNAL;
      CREATE UNIQUE INDEX published_crl_once_per_publication
        ON published_crl (publication_id, kind, coalesce(partition, -1)) WHERE publication_id IS NOT NULL;

      ALTER TABLE crl_schedule
        ADD COLUMN cron_time_zone text NOT NULL DEFAULT 'Asia/Taipei',
        ADD COLUMN updated_by text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE crl_schedule DROP COLUMN IF EXISTS updated_by, DROP COLUMN IF EXISTS cron_time_zone;
      DROP INDEX IF EXISTS published_crl_once_per_publication;
      DELETE FROM published_crl WHERE kind = 'delta' AND partition IS NOT NULL;
      ALTER TABLE published_crl ALTER COLUMN der SET STORAGE EXTENDED;
      ALTER TABLE published_crl
        DROP COLUMN IF EXISTS publication_id,
        DROP COLUMN IF EXISTS source_snapshot,
        DROP CONSTRAINT IF EXISTS published_crl_partition_scope,
        ADD CONSTRAINT published_crl_partition_kind CHECK ((kind = 'partition') = (partition IS NOT NULL));
      DROP TABLE IF EXISTS crl_publication;
      DROP INDEX IF EXISTS certificate_crl_entries;
      DROP INDEX IF EXISTS certificate_status_event_xid;
      ALTER TABLE certificate_status_event DROP COLUMN IF EXISTS xid;
    `);
  }
}
