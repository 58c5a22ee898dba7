import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { verifyAuditChain } from '../../../db/audit-chain';
import { ensureDevelopmentHierarchy } from '../../../tools/dev-ca';
import { freePort } from '../../../tools/embedded-postgres';
import { createStaffWithToken, ensureOffice } from '../src/auth/staff-provisioning';
import { applicationBody } from '../../../test/support/ca-api-harness';
import { TestCard } from '../../../test/support/card';
import { createTestDatabase } from '../../../test/support/database';
import { RunningProcess, startProcess } from '../../../test/support/processes';

/**
 * Issue 5: the process killed (SIGKILL) in the middle of issuance — after the
 * to-be-signed certificates were recorded, before they were stored signed —
 * then restarted: no signed certificate is unknown to the database, and the
 * retried request with the same Idempotency-Key succeeds once.
 */
describe('crash in the middle of issuance (compiled ca-api, SIGKILL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let keysDir: string;
  let running: RunningProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined);
    keysDir = mkdtempSync(join(tmpdir(), 'moica-crash-'));
  }, 60_000);
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await pool.end();
    await db.drop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('abandons the recorded leftovers on restart and the retry issues exactly once', async () => {
    const passphrase = randomBytes(12).toString('hex');
    await ensureDevelopmentHierarchy({
      databaseUrl: db.url,
      keysDir,
      passphrase,
      publicBaseUrl: 'http://127.0.0.1:3001',
      now: new Date(Date.now() - 3600_000),
      rootKey: { kind: 'EC', curve: 'P-256' },
      issuingKey: { kind: 'RSA', modulusBits: 2048 },
    });
    const office = await ensureOffice(pool, 'TPE-09', 'office');
    const { token } = await createStaffWithToken(pool, { name: 'Clerk', role: 'clerk', officeId: office }, new Date());
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PII_HMAC_KEY: randomBytes(32).toString('base64'),
      SOFTWARE_KEY_PASSPHRASE: passphrase,
      USER_CODE_SCRYPT_LOG2N: '14',
      CA_API_PORT: String(port),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
    };
    const card = await TestCard.create('TP0600000000001');
    const body = JSON.stringify(applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }));
    const post = () =>
      fetch(`http://127.0.0.1:${port}/v1/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'crash-1' },
        body,
      });
    const ready = async () => {
      for (let i = 0; i < 200; i++) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`ca-api not ready: ${running?.output()}`);
    };

    running = startProcess('apps/ca-api/src/main.js', { ...env, FAULT_INJECTION: 'stall-after-record=30' });
    await ready();
    const inFlight = post().catch((error: unknown) => error);
    let pending = 0;
    for (let i = 0; i < 100 && pending < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pending = (await pool.query(`SELECT count(*)::int AS n FROM certificate WHERE status = 'pending'`)).rows[0].n;
    }
    expect(pending).toBe(2);
    running.child.kill('SIGKILL');
    await running.exited();
    expect(String(await inFlight)).toMatch(/fetch failed|socket|terminated/i);
    const afterCrash = await pool.query(`SELECT status, der IS NULL AS unsigned FROM certificate ORDER BY created_at`);
    expect(afterCrash.rows).toEqual([{ status: 'pending', unsigned: true }, { status: 'pending', unsigned: true }]);

    // Restart later (the fake clock moves past the leftover and claim timeouts).
    running = startProcess('apps/ca-api/src/main.js', { ...env, FAKE_CLOCK: '+5m' });
    await ready();
    const abandoned = await pool.query(`SELECT status FROM certificate ORDER BY created_at`);
    expect(abandoned.rows.map((r) => r.status)).toEqual(['abandoned', 'abandoned']);

    const retry = await post();
    expect(retry.status).toBe(201);
    const first = (await retry.json()) as { certificates: Array<{ serial: string }> };
    const replay = await post();
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(first);

    const final = await pool.query(`SELECT status, count(*)::int AS n FROM certificate GROUP BY status ORDER BY status`);
    expect(final.rows).toEqual([{ status: 'abandoned', n: 2 }, { status: 'valid', n: 2 }]);
    // Every certificate the API returned is in the database, signed and valid.
    const issuedSerials = first.certificates.map((c: { serial: string }) => c.serial).sort();
    const known = await pool.query(`SELECT ltrim(encode(serial, 'hex'), '0') AS serial FROM certificate WHERE status = 'valid' ORDER BY 1`);
    expect(known.rows.map((r) => r.serial).sort()).toEqual(issuedSerials.map((s: string) => s.replace(/^0+/, '')));
    expect((await pool.query(`SELECT count(*)::int AS n FROM card`)).rows[0].n).toBe(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'certificate.abandoned'`)).rows[0].n).toBe(1);
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
    running.child.kill('SIGTERM');
    await running.exited();
  }, 120_000);
});
