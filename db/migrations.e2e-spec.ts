import { Client } from 'pg';
import { appendAudit, migrateDown, migrateUp, migrations, verifyAuditChain } from '.';
import { createTestDatabase } from '../test/support/database';

describe('database schema (real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await client?.end();
    await db.drop();
  });

  it('migrates up, down to nothing, and up again', async () => {
    // Every migration file in db/migrations, oldest first (db/migrations/index.ts collects them).
    const names = migrations.map((migration) => migration.name);
    expect(names[0]).toBe('InitialSchema1764345600000');
    expect(await migrateUp(db.url)).toEqual(names);
    expect(await migrateUp(db.url)).toEqual([]);
    expect(await migrateDown(db.url, Infinity)).toBe(names.length);
    const probe = new Client({ connectionString: db.url });
    await probe.connect();
    const { rows } = await probe.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migration'`,
    );
    await probe.end();
    expect(rows[0].n).toBe(0);
    expect(await migrateUp(db.url)).toEqual(names);
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  it('chains audit records and refuses UPDATE, DELETE and TRUNCATE', async () => {
    const at = new Date('2026-11-28T00:00:00Z');
    for (let i = 0; i < 5; i++) {
      await appendAudit(client, { at, actorKind: 'system', operation: 'test.append', detail: { i } });
    }
    const { rows } = await client.query(`SELECT id, prev_hash, hash FROM audit_log ORDER BY id`);
    expect(rows).toHaveLength(5);
    expect(rows[0].prev_hash).toEqual(Buffer.alloc(0));
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toEqual(rows[i - 1].hash);

    await expect(client.query(`UPDATE audit_log SET operation = 'forged' WHERE id = $1`, [rows[1].id])).rejects.toThrow(
      /append-only/,
    );
    await expect(client.query(`DELETE FROM audit_log WHERE id = $1`, [rows[1].id])).rejects.toThrow(/append-only/);
    await expect(client.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    expect(await verifyAuditChain(client)).toEqual({ intact: true, checked: 5, lastId: rows[4].id });
  });

  it('detects an edited row and a removed row, and says where', async () => {
    // Only a superuser who disables the trigger can do this; the chain still tells.
    await client.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    const { rows } = await client.query(`SELECT id FROM audit_log ORDER BY id`);
    await client.query(`UPDATE audit_log SET detail = '{"i": 99}' WHERE id = $1`, [rows[2].id]);
    expect(await verifyAuditChain(client)).toMatchObject({ intact: false, brokenAt: rows[2].id, problem: 'hash-mismatch' });
    expect(await verifyAuditChain(client, { fromId: rows[3].id })).toMatchObject({ intact: true, checked: 2 });

    await client.query(`DELETE FROM audit_log WHERE id = $1`, [rows[2].id]);
    expect(await verifyAuditChain(client)).toMatchObject({ intact: false, brokenAt: rows[3].id, problem: 'link-mismatch' });
    await client.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
  });

  it('enforces certificate invariants: unique serials, status/reason consistency, revoked is final', async () => {
    const ca = await client.query(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm,
          spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after)
       VALUES ('t', 'issuing', 'CN=t', '\\x30', 'software:/x', 'RSA-2048', '\\x01', '\\x01', '\\x01', '\\x01', now(), now() + interval '1 year')
       RETURNING id`,
    );
    const insert = (serial: string, status: string, extra: Record<string, unknown> = {}) => {
      const columns = ['ca_id', 'serial', 'kind', 'status', 'not_before', 'not_after', 'tbs_der', 'der', 'spki_sha256', 'crl_partition', ...Object.keys(extra)];
      const values = [ca.rows[0].id, Buffer.from(serial, 'hex'), 'signature', status, new Date(), new Date(Date.now() + 1e11), Buffer.of(0x30, 0), Buffer.of(0x30, 0), Buffer.of(1), 0, ...Object.values(extra)];
      return client.query(
        `INSERT INTO certificate (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
        values,
      );
    };
    const cert = await insert('01', 'valid');
    await expect(insert('01', 'valid')).rejects.toThrow(/unique/);
    await expect(insert('02', 'revoked')).rejects.toThrow(/check constraint/);
    await expect(insert('03', 'suspended', { revoked_at: new Date(), revocation_reason: 1, suspended_by: 'holder' })).rejects.toThrow(/check constraint/);
    await expect(insert('04', 'suspended', { revoked_at: new Date(), revocation_reason: 6 })).rejects.toThrow(/certificate_suspended_by/);
    await insert('05', 'suspended', { revoked_at: new Date(), revocation_reason: 6, suspended_by: 'court-order' });
    await client.query(`UPDATE certificate SET status = 'revoked', revoked_at = now(), revocation_reason = 1 WHERE id = $1`, [
      cert.rows[0].id,
    ]);
    await expect(
      client.query(`UPDATE certificate SET status = 'valid', revoked_at = NULL, revocation_reason = NULL WHERE id = $1`, [
        cert.rows[0].id,
      ]),
    ).rejects.toThrow(/revocation is final/);
  });
});
