/**
 * Pre-signing and refreshing stored OCSP responses (the worker's
 * ocsp-refresh task) and the status-change announcement, on a real
 * PostgreSQL with the development hierarchy.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { SoftwareSigner } from '@moica/pki';
import { announceStatusChange, parseCertificateStatusNotice } from '../../../../db/certificate-status-change';
import { ensureDevelopmentHierarchy } from '../../../../tools/dev-ca';
import { createTestDatabase } from '../../../../test/support/database';
import { presignCertificates, refreshOcspResponses } from './ocsp-presigner';
import { loadOcspSigningIdentities, type OcspSigningIdentity } from './ocsp-signing-identity';

const PASSPHRASE = 'presigner-test-passphrase';
const NOW = new Date('2026-11-28T00:00:00Z');
const HOUR = 3_600_000;

describe('OCSP pre-signing (worker) and announceStatusChange (ca-api)', () => {
  let database: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let dir: string;
  let identities: OcspSigningIdentity[];
  let caId: string;

  async function certificate(serial: string, status: string, notAfter: Date): Promise<string> {
    const listed = status === 'suspended' || status === 'revoked';
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256, crl_partition,
                                revoked_at, revocation_reason, suspended_by)
       VALUES ($1, $2, 'signature', $3, $4, $5, '\\x3000', '\\x3000', '\\x00', 0, $6, $7, $8) RETURNING id`,
      [caId, Buffer.from(serial, 'hex'), status, new Date(NOW.getTime() - 1000 * HOUR), notAfter,
        listed ? new Date(NOW.getTime() - HOUR) : null, listed ? (status === 'revoked' ? 1 : 6) : null, status === 'suspended' ? 'holder' : null],
    );
    return rows[0].id;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ocsp-presigner-'));
    caId = (
      await ensureDevelopmentHierarchy({
        databaseUrl: database.url, keysDir: dir, passphrase: PASSPHRASE, publicBaseUrl: 'http://127.0.0.1:3001', now: NOW,
        rootKey: { kind: 'EC', curve: 'P-256' }, issuingKey: { kind: 'EC', curve: 'P-256' },
      })
    ).issuingCaId;
    pool = new Pool({ connectionString: database.url, max: 3 });
    identities = await loadOcspSigningIdentities(pool, async (location, label) =>
      SoftwareSigner.fromEncryptedPem(label, readFileSync(location.replace(/^software:/, ''), 'utf8'), PASSPHRASE),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all((identities ?? []).map((identity) => identity.signer.close()));
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs missing responses, re-signs those past half their validity, drops expired certificates', async () => {
    const valid = await certificate('01aa', 'valid', new Date(NOW.getTime() + 1000 * HOUR));
    const suspended = await certificate('01bb', 'suspended', new Date(NOW.getTime() + 1000 * HOUR));
    const expired = await certificate('01cc', 'valid', new Date(NOW.getTime() + HOUR));
    await certificate('01dd', 'pending', new Date(NOW.getTime() + 1000 * HOUR));

    expect(await refreshOcspResponses(pool, identities, { now: NOW, validityHours: 24 })).toEqual({ signed: 3, dropped: 0 });
    const stored = async () =>
      (await pool.query<{ certificate_id: string; produced_at: Date }>(`SELECT certificate_id, produced_at FROM ocsp_response ORDER BY certificate_id`)).rows;
    expect((await stored()).map((row) => row.certificate_id).sort()).toEqual([valid, suspended, expired].sort());

    // 11 hours later nothing is due; 13 hours later everything is (half of 24), and the expired one is dropped.
    expect(await refreshOcspResponses(pool, identities, { now: new Date(NOW.getTime() + 11 * HOUR), validityHours: 24 })).toEqual({ signed: 0, dropped: 0 });
    const later = new Date(NOW.getTime() + 13 * HOUR);
    expect(await refreshOcspResponses(pool, identities, { now: later, validityHours: 24 })).toEqual({ signed: 2, dropped: 1 });
    const rows = await stored();
    expect(rows.map((row) => row.certificate_id).sort()).toEqual([valid, suspended].sort());
    expect(rows.every((row) => row.produced_at.getTime() === later.getTime())).toBe(true);
  });

  it('announceStatusChange deletes the stored responses and notifies the new status on commit only', async () => {
    const id = await certificate('02aa', 'valid', new Date(NOW.getTime() + 1000 * HOUR));
    await presignCertificates(pool, identities, [id], { now: NOW, validityHours: 24 });
    const listener = new Client({ connectionString: database.url });
    await listener.connect();
    const notices: string[] = [];
    listener.on('notification', (message) => notices.push(message.payload ?? ''));
    await listener.query('LISTEN certificate_status');

    const client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query(`UPDATE certificate SET status = 'suspended', revoked_at = $2, revocation_reason = 6, suspended_by = 'holder' WHERE id = $1`, [
      id,
      new Date('2026-11-27T10:00:00Z'),
    ]);
    await announceStatusChange(client, id);
    await client.query('ROLLBACK'); // rolled back: nothing happens
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(notices).toEqual([]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ocsp_response WHERE certificate_id = $1`, [id])).rows[0].n).toBe(1);

    await client.query('BEGIN');
    await client.query(`UPDATE certificate SET status = 'suspended', revoked_at = $2, revocation_reason = 6, suspended_by = 'holder' WHERE id = $1`, [
      id,
      new Date('2026-11-27T10:00:00Z'),
    ]);
    await announceStatusChange(client, id);
    await client.query('COMMIT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notices.map(parseCertificateStatusNotice)).toEqual([
      { id, ca: caId, serial: '02aa', status: 'suspended', revokedAt: '2026-11-27T10:00:00.000Z', reason: 6 },
    ]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ocsp_response WHERE certificate_id = $1`, [id])).rows[0].n).toBe(0);
    await client.end();
    await listener.end();
    await expect(announceStatusChange(pool, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(/no certificate/);
  });
});
