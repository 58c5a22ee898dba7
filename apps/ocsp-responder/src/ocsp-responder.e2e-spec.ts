/**
 * The OCSP responder as relying parties see it (issue 6): two compiled
 * responder processes on one PostgreSQL, pre-signed responses stored by the
 * worker's code, and `openssl ocsp` as the client over POST and GET
 * (RFC 6960, RFC 5019), verifying every response against the CA chain.
 * Status changes are committed the way ca-api commits them
 * (announceStatusChange in the transaction) and must be answered by both
 * responders within 2 seconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { SoftwareSigner } from '@moica/pki';
import { announceStatusChange } from '../../../db/certificate-status-change';
import { ensureDevelopmentHierarchy } from '../../../tools/dev-ca';
import { freePort } from '../../../tools/embedded-postgres';
import { createTestDatabase } from '../../../test/support/database';
import { RunningProcess, startProcess } from '../../../test/support/processes';
import { describeWithTools, hasTool } from '../../../test/support/system-tool';
import { presignCertificates } from './ocsp/ocsp-presigner';
import { loadOcspSigningIdentities } from './ocsp/ocsp-signing-identity';

const PASSPHRASE = 'ocsp-e2e-passphrase';

function run(command: string, args: string[], cwd: string): { status: number | null; out: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describeWithTools(['openssl'], 'OCSP responder with openssl ocsp (two responder processes)', () => {
  let database: { url: string; drop(): Promise<void> };
  let dir: string;
  let pool: Pool;
  let responders: Array<{ process: RunningProcess; url: string }> = [];
  const ids: Record<string, string> = {};
  const file = (name: string) => join(dir, name);

  /** A leaf signed by `ca` with openssl, and its row (status, revocation) in `certificate` unless `insert` is false. */
  async function makeLeaf(name: string, serialHex: string, caId: string, row?: { status: string; revokedAt?: Date; reason?: number }) {
    expect(run('openssl', ['req', '-new', '-key', 'leaf.key', '-subj', `/C=TW/CN=${name}`, '-out', `${name}.csr`], dir).status).toBe(0);
    const signed = run(
      'openssl',
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'issuing.pem', '-CAkey', 'issuing.key.pem', '-passin', `pass:${PASSPHRASE}`,
        '-set_serial', `0x${serialHex}`, '-days', '30', '-out', `${name}.pem`],
      dir,
    );
    expect(signed.status).toBe(0);
    if (!row) return;
    const der = Buffer.from(readFileSync(file(`${name}.pem`), 'utf8').replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256, crl_partition,
                                revoked_at, revocation_reason, suspended_by)
       VALUES ($1, $2, 'signature', $3, now() - interval '1 day', now() + interval '30 days', $4, $4, sha256($4), 0, $5, $6, $7)
       RETURNING id`,
      [caId, Buffer.from(serialHex, 'hex'), row.status, der, row.revokedAt ?? null, row.reason ?? null, row.status === 'suspended' ? 'holder' : null],
    );
    ids[name] = rows[0].id;
  }

  /** openssl ocsp against a responder; returns its output. */
  function ocsp(responder: string, certs: string[], extra: string[] = []): { status: number | null; out: string } {
    return run(
      'openssl',
      // Options first: openssl reads a digest option (-sha256) only before -cert.
      ['ocsp', ...extra, '-issuer', 'issuing.pem', ...certs.flatMap((cert) => ['-cert', `${cert}.pem`]), '-url', `${responder}/ocsp/dev-issuing`,
        '-CAfile', 'root.pem', '-resp_text'],
      dir,
    );
  }

  /** Changes a status the way ca-api does: UPDATE, then announceStatusChange, in one transaction. */
  async function changeStatus(name: string, set: { status: string; revokedAt: Date | null; reason: number | null }): Promise<void> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `UPDATE certificate SET status = $2, revoked_at = $3, revocation_reason = $4, suspended_by = $5, status_changed_at = now() WHERE id = $1`,
        [ids[name], set.status, set.revokedAt, set.reason, set.status === 'suspended' ? 'holder' : null],
      );
      await announceStatusChange(client, ids[name]);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }

  /** Polls every responder (pre-signed path: no nonce) until it says `expected`; returns the time each took. */
  async function waitForAll(name: string, expected: RegExp): Promise<number[]> {
    const committed = performance.now();
    return Promise.all(
      responders.map(async (responder) => {
        for (;;) {
          const { out } = ocsp(responder.url, [name], ['-no_nonce']);
          if (expected.test(out) && /Response verify OK/.test(out)) return performance.now() - committed;
          if (performance.now() - committed > 5000) throw new Error(`${responder.url} still says:\n${out.slice(-600)}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ocsp-e2e-'));
    pool = new Pool({ connectionString: database.url, max: 3 });
    const hierarchy = await ensureDevelopmentHierarchy({
      databaseUrl: database.url,
      keysDir: join(dir, 'keys'),
      passphrase: PASSPHRASE,
      publicBaseUrl: 'http://127.0.0.1:3001',
      now: new Date(),
      rootKey: { kind: 'EC', curve: 'P-384' },
      issuingKey: { kind: 'EC', curve: 'P-256' },
    });
    const caId = hierarchy.issuingCaId;
    writeFileSync(file('root.pem'), readFileSync(join(dir, 'keys', 'dev-root-ca.crt.pem')));
    writeFileSync(file('issuing.pem'), readFileSync(join(dir, 'keys', 'dev-issuing-ca.crt.pem')));
    writeFileSync(file('issuing.key.pem'), readFileSync(join(dir, 'keys', 'dev-issuing-ca.DEVELOPMENT.key.pem')));
    expect(run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.key'], dir).status).toBe(0);

    await makeLeaf('good', '5a17c0ffee0001', caId, { status: 'valid' });
    await makeLeaf('revoked', '5a17c0ffee0002', caId, { status: 'revoked', revokedAt: new Date('2026-02-10T08:30:00Z'), reason: 1 });
    await makeLeaf('suspended', '5a17c0ffee0003', caId, { status: 'suspended', revokedAt: new Date('2026-02-11T09:00:00Z'), reason: 6 });
    await makeLeaf('changing', '5a17c0ffee0004', caId, { status: 'valid' });
    await makeLeaf('late', '5a17c0ffee0005', caId, { status: 'valid' }); // issued after the pre-signing run: signed live
    await makeLeaf('never-issued', '5a17c0ffee0099', caId); // signed by the CA, but not in its database
    // Another CA's certificate: the responder does not answer for it.
    expect(run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key',
      '-subj', '/CN=Other CA', '-days', '30', '-out', 'other-ca.pem'], dir).status).toBe(0);
    expect(run('openssl', ['x509', '-req', '-in', 'good.csr', '-CA', 'other-ca.pem', '-CAkey', 'other.key', '-set_serial', '0x77',
      '-days', '30', '-out', 'foreign.pem'], dir).status).toBe(0);

    // What the worker does after issuance (ocsp-refresh): pre-sign and store.
    const identities = await loadOcspSigningIdentities(pool, async (location, label) =>
      SoftwareSigner.fromEncryptedPem(label, readFileSync(location.replace(/^software:/, ''), 'utf8'), PASSPHRASE),
    );
    const now = new Date();
    const signed = await presignCertificates(pool, identities, ['good', 'revoked', 'suspended', 'changing'].map((name) => ids[name]), {
      now,
      validityHours: 24,
    });
    expect(signed).toBe(4);
    await Promise.all(identities.map((identity) => identity.signer.close()));

    const env = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      PII_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      PII_HMAC_KEY: Buffer.alloc(32, 2).toString('base64'),
      SOFTWARE_KEY_PASSPHRASE: PASSPHRASE,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
    };
    responders = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        const child = startProcess('apps/ocsp-responder/src/main.js', { ...env, OCSP_PORT: String(port) });
        await child.waitFor(/OCSP cache warmed: 4 responses/, 60_000);
        await child.waitFor(/listening on/, 60_000);
        return { process: child, url: `http://127.0.0.1:${port}` };
      }),
    );
  }, 180_000);

  afterAll(async () => {
    for (const responder of responders) {
      responder.process.child.kill('SIGTERM');
      await responder.process.exited();
    }
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers good over POST with the nonce echoed, signed by the delegated responder (verified with the CA chain)', () => {
    const { status, out } = ocsp(responders[0].url, ['good']);
    expect(status).toBe(0);
    expect(out).toContain('Response verify OK');
    expect(out).toMatch(/good\.pem: good/);
    expect(out).toContain('OCSP Nonce');
    expect(out).not.toMatch(/WARNING: no nonce/);
    expect(out).toMatch(/Responder Id: [0-9A-F]{40}/); // byKey (RFC 5019 §2.2.3)
    expect(out).toMatch(/Subject: C\s?=\s?TW, O\s?=\s?moica-ca DEVELOPMENT, CN\s?=\s?DEVELOPMENT OCSP Responder/);
    expect(out).toContain('OCSP Signing');
    expect(out).toContain('OCSP No Check');
  });

  it('serves the pre-signed response without a nonce (no signature per request)', async () => {
    const before = await metric(responders[1].url, 'ocsp_live_signatures_total');
    const { out } = ocsp(responders[1].url, ['good'], ['-no_nonce']);
    expect(out).toContain('Response verify OK');
    expect(out).toMatch(/good\.pem: good/);
    expect(await metric(responders[1].url, 'ocsp_live_signatures_total')).toBe(before);
  });

  it('answers revoked with its time and reason, and suspended as revoked with certificateHold', () => {
    const revoked = ocsp(responders[0].url, ['revoked'], ['-no_nonce']);
    expect(revoked.out).toContain('Response verify OK');
    expect(revoked.out).toMatch(/revoked\.pem: revoked\s+This Update: .*\s+Next Update: .*\s+Reason: keyCompromise\s+Revocation Time: Feb 10 08:30:00 2026 GMT/);
    const suspended = ocsp(responders[0].url, ['suspended']);
    expect(suspended.out).toContain('Response verify OK');
    expect(suspended.out).toMatch(/suspended\.pem: revoked[\s\S]*Reason: certificateHold\s+Revocation Time: Feb 11 09:00:00 2026 GMT/);
  });

  it('answers unknown for a serial the CA never issued, and good for one issued after pre-signing', () => {
    const unknown = ocsp(responders[0].url, ['never-issued'], ['-no_nonce']);
    expect(unknown.out).toContain('Response verify OK');
    expect(unknown.out).toMatch(/never-issued\.pem: unknown/);
    const late = ocsp(responders[0].url, ['late'], ['-no_nonce']);
    expect(late.out).toContain('Response verify OK');
    expect(late.out).toMatch(/late\.pem: good/);
  });

  // NSS (libnss3-tools), the library of Firefox and Thunderbird, as a second, independent client.
  const nss = hasTool('certutil', ['-H']) && hasTool('ocspclnt', ['-H']);
  if (!nss) console.warn('skipping the NSS ocspclnt test: missing certutil/ocspclnt (apt-get install libnss3-tools, or run .ci/run)');
  (nss ? it : it.skip)('is accepted by NSS ocspclnt: good, revoked, unknown, with the delegated responder trusted through the chain', async () => {
    const db = `sql:${file('nssdb')}`;
    mkdirSync(file('nssdb'));
    const { rows } = await pool.query<{ certificate_der: Buffer }>(`SELECT certificate_der FROM ocsp_signer WHERE active`);
    writeFileSync(file('responder.der'), rows[0].certificate_der);
    expect(run('certutil', ['-N', '-d', db, '--empty-password'], dir).status).toBe(0);
    expect(run('certutil', ['-A', '-d', db, '-n', 'root', '-t', 'CT,C,C', '-a', '-i', 'root.pem'], dir).status).toBe(0);
    expect(run('certutil', ['-A', '-d', db, '-n', 'issuing', '-t', ',,', '-a', '-i', 'issuing.pem'], dir).status).toBe(0);
    expect(run('certutil', ['-A', '-d', db, '-n', 'responder', '-t', ',,', '-i', 'responder.der'], dir).status).toBe(0);
    const status = (name: string) =>
      // ocspclnt reads its options in this order only (-d first, the command and -a last).
      run('ocspclnt', ['-d', db, '-l', `${responders[1].url}/ocsp/dev-issuing`, '-t', 'responder', '-S', `${name}.pem`, '-a'], dir);
    // "succeeded" means NSS verified the response's signature and the responder certificate's chain to the root.
    const good = status('good');
    expect(good.out).toContain('Check of certificate "good.pem" succeeded.');
    expect(good.status).toBe(0);
    const revoked = status('revoked');
    expect(revoked.out).toMatch(/Check of certificate "revoked\.pem" failed\.\s+Reason:\s+Peer's Certificate has been revoked\./);
    const unknown = status('never-issued');
    expect(unknown.out).toMatch(/"never-issued\.pem" failed\.\s+Reason:\s+The OCSP server has no status for the certificate\./);
  });

  it('answers SHA-256 CertIDs and several CertIDs in one request', () => {
    const sha256 = ocsp(responders[0].url, ['good', 'revoked'], ['-sha256']);
    expect(sha256.out).toContain('Response verify OK');
    expect(sha256.out).toMatch(/Hash Algorithm: sha256/);
    expect(sha256.out).toMatch(/good\.pem: good/);
    expect(sha256.out).toMatch(/revoked\.pem: revoked/);
    const sha256Alone = ocsp(responders[1].url, ['suspended'], ['-sha256', '-no_nonce']);
    expect(sha256Alone.out).toContain('Response verify OK');
    expect(sha256Alone.out).toMatch(/suspended\.pem: revoked[\s\S]*certificateHold/);
  });

  it('answers unauthorized for another CA and malformedRequest for garbage', async () => {
    const foreign = run('openssl', ['ocsp', '-issuer', 'other-ca.pem', '-cert', 'foreign.pem', '-url', `${responders[0].url}/ocsp`, '-no_nonce'], dir);
    expect(foreign.out).toMatch(/Responder Error: unauthorized \(6\)/);
    const garbage = await fetch(`${responders[0].url}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: Buffer.from('not an OCSP request'),
    });
    expect(garbage.status).toBe(200);
    expect(garbage.headers.get('content-type')).toBe('application/ocsp-response');
    expect(Buffer.from(await garbage.arrayBuffer()).toString('hex')).toBe('30030a0101');
    const wrongType = await fetch(`${responders[0].url}/ocsp`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(wrongType.status).toBe(415);
  });

  it('answers RFC 5019 GET requests with caching headers, verified by openssl', async () => {
    expect(run('openssl', ['ocsp', '-issuer', 'issuing.pem', '-cert', 'revoked.pem', '-no_nonce', '-reqout', 'get.req'], dir).status).toBe(0);
    const path = encodeURIComponent(readFileSync(file('get.req')).toString('base64'));
    const response = await fetch(`${responders[1].url}/ocsp/dev-issuing/${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/ocsp-response');
    const cacheControl = response.headers.get('cache-control') ?? '';
    expect(cacheControl).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/);
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)![1]);
    expect(maxAge).toBeGreaterThan(23 * 3600);
    expect(maxAge).toBeLessThanOrEqual(24 * 3600);
    const expires = Date.parse(response.headers.get('expires')!);
    const lastModified = Date.parse(response.headers.get('last-modified')!);
    expect(expires - lastModified).toBe(24 * 3600 * 1000);
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    writeFileSync(file('get.resp'), Buffer.from(await response.arrayBuffer()));
    const { out } = run('openssl', ['ocsp', '-respin', 'get.resp', '-issuer', 'issuing.pem', '-cert', 'revoked.pem', '-CAfile', 'root.pem'], dir);
    expect(out).toContain('Response verify OK');
    expect(out).toMatch(/revoked\.pem: revoked/);
    // The same without the CA segment in the path.
    const bare = await fetch(`${responders[1].url}/ocsp/${path}`);
    expect(Buffer.from(await bare.arrayBuffer()).equals(readFileSync(file('get.resp')))).toBe(true);
  });

  it('answers a suspension, resumption and revocation on both responders within 2 seconds', async () => {
    expect(ocsp(responders[0].url, ['changing'], ['-no_nonce']).out).toMatch(/changing\.pem: good/);
    expect(ocsp(responders[1].url, ['changing'], ['-no_nonce']).out).toMatch(/changing\.pem: good/);

    await changeStatus('changing', { status: 'suspended', revokedAt: new Date('2026-11-01T10:00:00Z'), reason: 6 });
    const suspended = await waitForAll('changing', /changing\.pem: revoked[\s\S]*Reason: certificateHold/);
    await changeStatus('changing', { status: 'valid', revokedAt: null, reason: null });
    const resumed = await waitForAll('changing', /changing\.pem: good/);
    await changeStatus('changing', { status: 'revoked', revokedAt: new Date('2026-11-02T10:00:00Z'), reason: 1 });
    const revoked = await waitForAll('changing', /changing\.pem: revoked[\s\S]*Reason: keyCompromise/);
    for (const ms of [...suspended, ...resumed, ...revoked]) expect(ms).toBeLessThan(2000);
    // The stored pre-signed response of the old status is gone (announceStatusChange deleted it in the transaction).
    const stored = await pool.query(`SELECT count(*)::int AS n FROM ocsp_response WHERE certificate_id = $1`, [ids['changing']]);
    expect(stored.rows[0].n).toBe(0);
  });

  it('also follows a NOTIFY that carries only the certificate id (reads the status itself)', async () => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query(
      `UPDATE certificate SET status = 'suspended', revoked_at = $2, revocation_reason = 6, suspended_by = 'holder' WHERE id = $1`,
      [ids['late'], new Date('2026-11-04T10:00:00Z')],
    );
    await client.query(`SELECT pg_notify('certificate_status', $1)`, [ids['late']]);
    await client.query('COMMIT');
    await client.end();
    const times = await waitForAll('late', /late\.pem: revoked[\s\S]*certificateHold/);
    for (const ms of times) expect(ms).toBeLessThan(2000);
  });

  it('keeps answering status changes after its notification connection is cut', async () => {
    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'moica-ocsp-listener' AND datname = current_database()`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await changeStatus('good', { status: 'suspended', revokedAt: new Date('2026-11-03T10:00:00Z'), reason: 6 });
    await waitForAll('good', /good\.pem: revoked[\s\S]*certificateHold/);
    await changeStatus('good', { status: 'valid', revokedAt: null, reason: null });
    await waitForAll('good', /good\.pem: good/);
  });

  it('stays up under 2,000 garbage requests to the compiled process (the 100,000-request fuzz runs in process)', async () => {
    const base = readFileSync(file('get.req'));
    for (let i = 0; i < 2000; i++) {
      const body = Buffer.from(base);
      body[i % body.length] ^= 1 + (i % 255);
      const response =
        i % 3 === 0
          ? await fetch(`${responders[0].url}/ocsp/${encodeURIComponent(body.subarray(0, i % body.length).toString('base64'))}%`)
          : await fetch(`${responders[0].url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
      expect(response.status).toBeLessThan(500);
      await response.arrayBuffer();
    }
    expect((await fetch(`${responders[0].url}/healthz`)).status).toBe(200);
    expect(ocsp(responders[0].url, ['revoked'], ['-no_nonce']).out).toMatch(/revoked\.pem: revoked/);
  });

  it('exposes Prometheus metrics', async () => {
    const text = await (await fetch(`${responders[0].url}/metrics`)).text();
    expect(text).toMatch(/ocsp_requests_total\{method="POST",result="good"\} \d+/);
    expect(text).toMatch(/ocsp_requests_total\{method="POST",result="revoked"\} \d+/);
    expect(text).toMatch(/ocsp_request_duration_seconds_bucket\{le="0.01"\} \d+/);
    expect(text).toMatch(/ocsp_cache_hits_total [1-9]/);
    expect(text).toMatch(/ocsp_live_signatures_total [1-9]/);
    expect(text).toMatch(/ocsp_status_notifications_total [1-9]/);
    const ready = await (await fetch(`${responders[0].url}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', checks: { ocsp: expect.stringMatching(/^ok: 1 CA/) } });
  });
});

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}
