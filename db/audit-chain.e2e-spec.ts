import { Client, Pool } from 'pg';
import { appendAudit, verifyAuditChain } from '.';
import { createTestDatabase } from '../test/support/database';

/**
 * The audit chain under concurrent writers: every append links to the row
 * committed before it, whatever the order in which transactions started,
 * took their ids or committed, and whatever their isolation level.
 */
describe('audit chain under concurrent appends (real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  const at = new Date('2026-12-03T00:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 12 });
  });
  afterAll(async () => {
    await pool?.end();
    await db.drop();
  });

  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    return client;
  }

  it('stays one unbroken chain when many transactions append at once and commit in any order', async () => {
    const writers = 10;
    const perWriter = 30;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let i = 0; i < perWriter; i++) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            // Work before the append, of varying length, so transactions overlap and take ids out of commit order.
            await client.query('SELECT pg_sleep($1)', [((writer * 7 + i * 3) % 5) / 1000]);
            await appendAudit(client, { at, actorKind: 'system', operation: 'test.concurrent', detail: { writer, i } });
            await client.query('SELECT pg_sleep($1)', [((writer + i) % 3) / 1000]);
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        }
      }),
    );
    const verdict = await verifyAuditChain(pool);
    expect(verdict).toMatchObject({ intact: true, checked: writers * perWriter });
  });

  it('links a row after the one committed before it even when the row was started first', async () => {
    // A test-only trigger that fires before the chain trigger (triggers fire in name order) holds A's
    // insert for a moment: anything the row got before the chain trigger ran (a column default) was
    // drawn before B's row, which is appended and committed meanwhile.
    await pool.query(`
      CREATE FUNCTION test_audit_delay() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.detail ? 'delay' THEN PERFORM pg_sleep((NEW.detail->>'delay')::float); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_log_0_test_delay BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_audit_delay();
    `);
    try {
      const from = (await pool.query(`SELECT coalesce(max(id), 0)::text AS id FROM audit_log`)).rows[0].id;
      const a = appendAudit(pool, { at, actorKind: 'system', operation: 'test.order', detail: { who: 'a', delay: 0.3 } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await appendAudit(pool, { at, actorKind: 'system', operation: 'test.order', detail: { who: 'b' } });
      await a;
      const { rows } = await pool.query(`SELECT detail->>'who' AS who FROM audit_log WHERE id > $1 ORDER BY id`, [from]);
      expect(rows.map((row) => row.who)).toEqual(['b', 'a']);
      expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
    } finally {
      await pool.query(`DROP TRIGGER audit_log_0_test_delay ON audit_log; DROP FUNCTION test_audit_delay()`);
    }
  });

  it('refuses (serialization failure) rather than forks when a REPEATABLE READ transaction appends after another commit', async () => {
    const stale = await connect();
    try {
      await stale.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await stale.query('SELECT count(*) FROM audit_log'); // the snapshot is taken here
      await appendAudit(pool, { at, actorKind: 'system', operation: 'test.snapshot', detail: { who: 'committed' } });
      // Its snapshot cannot see the row just committed: linking to the row before would fork the chain.
      await expect(appendAudit(stale, { at, actorKind: 'system', operation: 'test.snapshot', detail: { who: 'stale' } })).rejects.toMatchObject({
        code: '40001',
      });
      await stale.query('ROLLBACK');
      // Retried, it links after the committed row.
      await stale.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await appendAudit(stale, { at, actorKind: 'system', operation: 'test.snapshot', detail: { who: 'retried' } });
      await stale.query('COMMIT');
      expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
    } finally {
      await stale.end();
    }
  });

  it('keeps the chain when a transaction that appended rolls back', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await appendAudit(client, { at, actorKind: 'system', operation: 'test.rollback' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    await appendAudit(pool, { at, actorKind: 'system', operation: 'test.after-rollback' });
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'test.rollback'`);
    expect(rows[0].n).toBe(0);
  });

  it('lets nothing but an append move the chain head', async () => {
    await expect(pool.query(`UPDATE audit_chain_head SET hash = '\\x00'`)).rejects.toThrow(/written by the audit chain trigger only/);
    await expect(pool.query(`DELETE FROM audit_chain_head`)).rejects.toThrow(/written by the audit chain trigger only/);
    await expect(pool.query(`INSERT INTO audit_chain_head (singleton, hash) VALUES (false, '\\x')`)).rejects.toThrow(/audit chain trigger only|check constraint/);
    await expect(pool.query(`TRUNCATE audit_chain_head`)).rejects.toThrow(/written by the audit chain trigger only/);
    const id = await appendAudit(pool, { at, actorKind: 'system', operation: 'test.head' });
    const { rows } = await pool.query(`SELECT h.last_id::text AS last_id, h.hash = a.hash AS same FROM audit_chain_head h, audit_log a WHERE a.id = $1`, [id]);
    expect(rows).toEqual([{ last_id: id, same: true }]);
  });
});
