/**
 * The worker process publishes CRLs by itself (issue 7): two compiled
 * workers on one database (the development CA hierarchy, software keys), the
 * per-minute tick writes the default schedules and requests each slot once;
 * every scope gets exactly one CRL, numbers are unique, and openssl accepts
 * the signatures with the issuing CA certificate.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { toPem } from '../../../../libs/pki/src/revocation/testing/test-certificates';
import { createTestDatabase } from '../../../../test/support/database';
import { RunningProcess, startProcess } from '../../../../test/support/processes';
import { describeWithTools } from '../../../../test/support/system-tool';
import { ensureDevelopmentHierarchy } from '../../../../tools/dev-ca';

const PASSPHRASE = 'crl-worker-test-passphrase';
const BASE_URL = 'http://crl.worker.example.tw';

describeWithTools(['openssl'], 'CRL publication by the worker processes', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let dir: string;
  const workers: RunningProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    dir = mkdtempSync(join(tmpdir(), 'moica-crl-worker-'));
    await ensureDevelopmentHierarchy({
      databaseUrl: db.url,
      keysDir: join(dir, 'keys'),
      passphrase: PASSPHRASE,
      publicBaseUrl: BASE_URL,
      now: new Date(),
      rootKey: { kind: 'EC', curve: 'P-256' },
      issuingKey: { kind: 'EC', curve: 'P-256' },
    });
    await pool.query(`UPDATE certificate_authority SET crl_partitions = 2 WHERE role = 'issuing'`);
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) {
      worker.child.kill('SIGTERM');
      await worker.exited();
    }
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every scope exactly once per slot with two workers running', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      PUBLIC_BASE_URL: BASE_URL,
      SOFTWARE_KEY_PASSPHRASE: PASSPHRASE,
      PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PII_HMAC_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    };
    for (let i = 0; i < 2; i++) workers.push(startProcess('apps/ca-api/src/worker.js', env));
    await Promise.all(workers.map((worker) => worker.waitFor(/worker started/)));

    // The tick runs at the next whole minute: complete, 2 partitions, then the 3 deltas.
    const deadline = Date.now() + 150_000;
    let count = 0;
    while (Date.now() < deadline) {
      count = (await pool.query(`SELECT count(*)::int AS n FROM published_crl`)).rows[0].n;
      if (count >= 6) break;
      await new Promise((done) => setTimeout(done, 2000));
    }
    expect(count).toBe(6);
    await new Promise((done) => setTimeout(done, 3000)); // nothing more comes

    const publications = await pool.query(`SELECT kind, trigger, state FROM crl_publication ORDER BY kind`);
    expect(publications.rows).toEqual([
      { kind: 'complete', trigger: 'schedule', state: 'published' },
      { kind: 'delta', trigger: 'schedule', state: 'published' },
      { kind: 'partition', trigger: 'schedule', state: 'published' },
    ]);
    const crls = await pool.query(`SELECT crl_number, kind, partition, base_crl_number, der FROM published_crl ORDER BY crl_number`);
    expect(crls.rows.map((r) => [Number(r.crl_number), r.kind, r.partition])).toEqual([
      [1, 'complete', null],
      [2, 'partition', 0],
      [3, 'partition', 1],
      [4, 'delta', null],
      [5, 'delta', 0],
      [6, 'delta', 1],
    ]);
    expect(crls.rows.slice(3).map((r) => Number(r.base_crl_number))).toEqual([1, 2, 3]);
    const ca = await pool.query(`SELECT certificate_der FROM certificate_authority WHERE role = 'issuing'`);
    writeFileSync(join(dir, 'issuing.pem'), toPem(ca.rows[0].certificate_der, 'CERTIFICATE'));
    for (const row of crls.rows) {
      writeFileSync(join(dir, `${row.crl_number}.crl`), row.der);
      const shown = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', `${row.crl_number}.crl`, '-noout', '-text', '-CAfile', 'issuing.pem'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(`${shown.stdout}${shown.stderr}`).toContain('verify OK');
    }
    expect(workers.map((w) => w.output()).join('')).toMatch(/CRLs published/);
  }, 200_000);
});
