import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { FakeClock } from '@moica/platform';
import { verifyAuditChain } from '../../../db/audit-chain';
import { ensureDevelopmentHierarchy } from '../../../tools/dev-ca';
import { freePort } from '../../../tools/embedded-postgres';
import { createStaffWithToken, ensureOffice } from '../src/auth/staff-provisioning';
import { pendingLeftoverSweepTask } from '../src/jobs/pending-leftover-sweep.task';
import { applicationBody } from '../../../test/support/ca-api-harness';
import { TestCard } from '../../../test/support/card';
import { createTestDatabase } from '../../../test/support/database';
import { RunningProcess, startProcess } from '../../../test/support/processes';

/** A development CA hierarchy and a clerk on this database, and what a compiled ca-api needs to run on it. */
async function prepareCa(url: string, pool: Pool, keysDir: string) {
  const passphrase = randomBytes(12).toString('hex');
  await ensureDevelopmentHierarchy({
    databaseUrl: url,
    keysDir,
    passphrase,
    publicBaseUrl: 'http://127.0.0.1:3001',
    now: new Date(Date.now() - 3600_000),
    rootKey: { kind: 'EC', curve: 'P-256' },
    issuingKey: { kind: 'RSA', modulusBits: 2048 },
  });
  const office = await ensureOffice(pool, 'TPE-09', 'office');
  const { token } = await createStaffWithToken(pool, { name: 'Clerk', role: 'clerk', officeId: office }, new Date());
  const piiKeys = { PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'), PII_HMAC_KEY: randomBytes(32).toString('base64') };
  /** The environment of a ca-api instance listening on `port` (every instance shares the keys). */
  const env = (port: number): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    DATABASE_URL: url,
    ...piiKeys,
    SOFTWARE_KEY_PASSPHRASE: passphrase,
    USER_CODE_SCRYPT_LOG2N: '14',
    CA_API_PORT: String(port),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
  });
  const post = (port: number, key: string, body: string) =>
    fetch(`http://127.0.0.1:${port}/v1/applications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body,
    });
  return { env, post };
}

async function ready(port: number, running: RunningProcess | undefined): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`ca-api not ready: ${running?.output()}`);
}

async function untilPending(pool: Pool, count: number): Promise<number> {
  let pending = 0;
  for (let i = 0; i < 100 && pending < count; i++) {
    await new Promise((r) => setTimeout(r, 100));
    pending = (await pool.query(`SELECT count(*)::int AS n FROM certificate WHERE status = 'pending'`)).rows[0].n;
  }
  return pending;
}

async function applicationFor(cardNumber: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const card = await TestCard.create(cardNumber);
  return JSON.stringify(applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, overrides));
}

/**
 * Issuance interrupted between recording the to-be-signed certificates
 * (`pending`) and storing them signed, on compiled ca-api processes. Each
 * test gets its own database.
 */
describe('issuance interrupted (compiled ca-api)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let keysDir: string;
  let processes: RunningProcess[];
  const start = (env: NodeJS.ProcessEnv) => {
    const running = startProcess('apps/ca-api/src/main.js', env);
    processes.push(running);
    return running;
  };

  beforeEach(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined);
    keysDir = mkdtempSync(join(tmpdir(), 'moica-crash-'));
    processes = [];
  }, 60_000);
  afterEach(async () => {
    for (const running of processes) running.child.kill('SIGKILL');
    await Promise.all(processes.map((running) => running.exited()));
    await pool.end();
    await db.drop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  /**
   * Issue 5: the process killed (SIGKILL) in the middle of issuance, then
   * restarted: no signed certificate is unknown to the database, and the
   * retried request with the same Idempotency-Key succeeds once.
   */
  it('abandons the recorded leftovers on restart and the retry issues exactly once', async () => {
    const ca = await prepareCa(db.url, pool, keysDir);
    const port = await freePort();
    const env = ca.env(port);
    const body = await applicationFor('TP0600000000001');
    const post = () => ca.post(port, 'crash-1', body);

    let running = start({ ...env, FAULT_INJECTION: 'stall-after-record=30' });
    await ready(port, running);
    const inFlight = post().catch((error: unknown) => error);
    expect(await untilPending(pool, 2)).toBe(2);
    running.child.kill('SIGKILL');
    await running.exited();
    expect(String(await inFlight)).toMatch(/fetch failed|socket|terminated/i);
    const afterCrash = await pool.query(`SELECT status, der IS NULL AS unsigned FROM certificate ORDER BY created_at`);
    expect(afterCrash.rows).toEqual([{ status: 'pending', unsigned: true }, { status: 'pending', unsigned: true }]);

    // Restart later (the fake clock moves past the leftover and claim timeouts).
    running = start({ ...env, FAKE_CLOCK: '+5m' });
    await ready(port, running);
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

  /**
   * Two ca-api instances (docs/operations.md): one records a pending
   * certificate and signs it while the other starts (a rolling restart). The
   * young pending rows are the first instance's issuance in flight, not
   * leftovers: they survive the start and the request succeeds. An issuance
   * that outlives the leftover age finds its rows abandoned by the worker's
   * sweep and answers 503 problem+json without the certificates it signed;
   * its retry, on either instance, issues once.
   */
  it('leaves a young pending certificate to the instance signing it, and answers 503 issuance-abandoned when the sweep took it', async () => {
    const ca = await prepareCa(db.url, pool, keysDir);
    const [portA, portB] = [await freePort(), await freePort()];
    // Instance A stalls 10 s between recording and signing: long enough for instance B to start meanwhile.
    const a = start({ ...ca.env(portA), FAULT_INJECTION: 'stall-after-record=10' });
    await ready(portA, a);

    const first = await applicationFor('TP0600000000002');
    let answered = false;
    const inFlight = ca.post(portA, 'rolling-1', first).then((response) => ((answered = true), response));
    expect(await untilPending(pool, 2)).toBe(2);
    const b = start(ca.env(portB));
    await ready(portB, b);
    expect(answered).toBe(false); // B started while A's issuance was in flight
    const afterStart = await pool.query(`SELECT status FROM certificate ORDER BY created_at`);
    expect(afterStart.rows).toEqual([{ status: 'pending' }, { status: 'pending' }]);
    const issued = await inFlight;
    expect(issued.status).toBe(201);
    const issuedSerials = ((await issued.json()) as { certificates: Array<{ serial: string }> }).certificates.map((c) => c.serial);
    expect(issuedSerials).toHaveLength(2);

    // A second request on A: while it stalls, the worker's sweep runs with a clock past the leftover age.
    const second = await applicationFor('TP0600000000003', {
      applicant: { name: '李四', nationalId: 'B120000008', dateOfBirth: '1980-01-01', mobile: '0912000000', email: 'li@example.tw' },
    });
    const stalled = ca.post(portA, 'rolling-2', second);
    expect(await untilPending(pool, 2)).toBe(2);
    const later = new FakeClock({ offsetMs: 5 * 60_000 });
    await pendingLeftoverSweepTask(pool, later)({}, { logger: { warn: () => undefined } } as never);
    const abandoned = (await pool.query(`SELECT id FROM certificate WHERE status = 'abandoned'`)).rows.map((r) => r.id);
    expect(abandoned).toHaveLength(2);

    const refused = await stalled;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await refused.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ type: 'urn:moica-ca:problem:issuance-abandoned', title: 'Issuance abandoned', status: 503 });
    expect(Object.keys(problem).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
    expect(JSON.stringify(problem)).not.toContain('BEGIN CERTIFICATE');
    const stillAbandoned = await pool.query(`SELECT status, der IS NULL AS unsigned FROM certificate WHERE id = ANY($1)`, [abandoned]);
    expect(stillAbandoned.rows).toEqual([{ status: 'abandoned', unsigned: true }, { status: 'abandoned', unsigned: true }]);

    // The retry with the same Idempotency-Key, on the other instance, issues once.
    const retry = await ca.post(portB, 'rolling-2', second);
    expect(retry.status).toBe(201);
    const retried = ((await retry.json()) as { certificates: Array<{ serial: string }> }).certificates.map((c) => c.serial);
    const valid = await pool.query(`SELECT encode(serial, 'hex') AS serial FROM certificate WHERE status = 'valid'`);
    const strip = (serial: string) => serial.replace(/^0+/, '');
    expect(valid.rows.map((r) => strip(r.serial)).sort()).toEqual([...issuedSerials, ...retried].map(strip).sort());
    expect((await pool.query(`SELECT count(*)::int AS n FROM certificate WHERE status = 'abandoned'`)).rows[0].n).toBe(2);
    expect((await pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'certificate.abandoned'`)).rows[0].n).toBe(1);
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  }, 120_000);
});
