import { join } from 'node:path';
import { effectiveState, type CertificateFacts } from '@moica/policy';
import { keyOpenerFor, loadConfig } from '@moica/platform';
import { runPublication } from '../../../db/crl-publisher';
import { createStaffWithToken } from '../src/auth/staff-provisioning';
import { effectiveStateSql } from '../src/console/effective-state.sql';
import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';

/**
 * Issue 10: the endpoints the operator console adds (session, overview,
 * certificate history, job retry) and its static files, on a real
 * PostgreSQL through HTTP: role checks, figures computed in SQL, national ID
 * masked for auditors only, retry audited.
 */
describe('operator console API', () => {
  let api: CaApiHarness;
  const cards: Array<{ cardNumber: string; nationalId: string }> = [];

  beforeAll(async () => {
    // 10:00 in Taipei on 2 March 2026.
    api = await startCaApi({ now: '2026-03-02T02:00:00Z' });
    for (let i = 1; i <= 2; i++) {
      const cardNumber = `TP10${String(i).padStart(11, '0')}`;
      const nationalId = validNationalId(1000 + i);
      const card = await TestCard.create(cardNumber);
      const response = await api.call('POST', '/v1/applications', {
        token: api.tokens.clerk,
        body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
          applicant: { name: `持卡人${i}`, nationalId, dateOfBirth: '1985-02-03', mobile: '0933000000', email: `c${i}@example.tw` },
        }),
      });
      expect(response.status).toBe(201);
      cards.push({ cardNumber, nationalId });
    }
    const revoked = await api.call('POST', `/v1/cards/${cards[1].cardNumber}/revocation`, { token: api.tokens.clerk, body: { ground: 'lost-card' } });
    expect(revoked.status).toBe(200);
    // Key operations need as many operators as the quorum (2).
    await createStaffWithToken(api.pool, { name: 'Operator Lee', role: 'operator', officeId: null }, api.clock.now());
  }, 120_000);
  afterAll(() => api?.close());

  it('serves the console files without a token, with a strict content security policy', async () => {
    const page = await fetch(`${api.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/console/app.js');
    const script = await fetch(`${api.url}/console/app.js`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${api.url}/console/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${api.url}/console/secret.js`)).status).toBe(404);
  });

  it('describes the new routes in the OpenAPI document, and not the static files', async () => {
    const document = (await api.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security?: unknown }>> };
    for (const [path, method] of [['/v1/operator/session', 'get'], ['/v1/operator/overview', 'get'], ['/v1/operator/certificates', 'get'], ['/v1/operator/jobs/{id}/retry', 'post']]) {
      expect(document.paths[path]?.[method]?.security).toEqual([{ bearer: [] }]);
    }
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/console'))).toEqual([]);
  });

  it('lets operators and auditors in, and no one else', async () => {
    const operator = await api.call('GET', '/v1/operator/session', { token: api.tokens.operator });
    expect(operator.body).toMatchObject({ name: 'Operator Huang', role: 'operator' });
    expect((await api.call('GET', '/v1/operator/session', { token: api.tokens.auditor })).body.role).toBe('auditor');
    for (const path of ['/v1/operator/session', '/v1/operator/overview', `/v1/operator/certificates?cardNumber=${cards[0].cardNumber}`]) {
      expect((await api.call('GET', path, { token: api.tokens.clerk })).status).toBe(403);
      expect((await api.call('GET', path, { token: api.tokens.supervisor })).status).toBe(403);
      expect((await api.call('GET', path)).status).toBe(401);
    }
  });

  it('counts certificates by state and issuance, renewal and revocation per Taiwan day over 90 days', async () => {
    const overview = await api.call('GET', '/v1/operator/overview', { token: api.tokens.auditor });
    expect(overview.status).toBe(200);
    expect(overview.body.certificatesByState).toEqual({ valid: 2, revoked: 2 });
    expect(overview.body.daily).toHaveLength(90);
    expect(overview.body.daily[0].day).toBe('2025-12-03');
    expect(overview.body.daily[89]).toEqual({ day: '2026-03-02', issued: 4, renewed: 0, revoked: 2 });
    expect(overview.body.daily.slice(0, 89).every((d: { issued: number; revoked: number }) => d.issued === 0 && d.revoked === 0)).toBe(true);
    expect(overview.body.expiries.map((e: { kind: string; role: string }) => `${e.kind}:${e.role}`).sort()).toEqual(['ca:issuing', 'ca:root', 'ocsp-signer:ocsp-signer']);

    // A day later, and after a key operation is requested: it shows as needing attention; expiry moves the counts.
    const requested = await api.call('POST', '/v1/operator/key-operations', {
      token: api.tokens.operator,
      body: { operation: 'rotate-ocsp-signer', parameters: { ca: 'dev-issuing', subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'OCSP Responder 2' }], keyLocation: `software:${join(api.keysDir, 'o2.key.pem')}`, keyAlgorithm: 'EC-P-256', validityDays: 30 } },
    });
    expect([requested.status, requested.body.type]).toEqual([201, undefined]);
    const later = await api.call('GET', '/v1/operator/overview', { token: api.tokens.operator });
    expect(later.body.attention).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'pending-approvals', data: { count: 1 } })]));
    await api.call('POST', `/v1/operator/key-operations/${requested.body.id}/rejection`, { token: api.tokens.operator, body: { reason: 'test' } });
    api.clock.advance(6 * 366 * 86_400_000);
    const expired = await api.call('GET', '/v1/operator/overview', { token: api.tokens.operator });
    expect(expired.body.certificatesByState).toEqual({ expired: 2, revoked: 2 });
    api.clock.set('2026-03-02T02:00:00Z');
  });

  it('looks certificates up by card or serial with their history; only auditors see the national ID, masked but for 4 digits', async () => {
    const path = `/v1/operator/certificates?cardNumber=${cards[1].cardNumber}`;
    const operator = await api.call('GET', path, { token: api.tokens.operator });
    expect(operator.status).toBe(200);
    expect(operator.body).toHaveLength(2);
    expect(operator.body[0]).not.toHaveProperty('nationalId');
    expect(operator.body[0]).toMatchObject({ cardNumber: cards[1].cardNumber, state: 'revoked' });
    expect(operator.body[0].history.map((h: { from: string | null; to: string }) => `${h.from}>${h.to}`)).toEqual(['pending>valid', 'valid>revoked']);
    const auditor = await api.call('GET', path, { token: api.tokens.auditor });
    expect(auditor.body[0].nationalId).toBe(`******${cards[1].nationalId.slice(-4)}`);
    for (const answer of [operator, auditor]) expect(JSON.stringify(answer.body)).not.toContain(cards[1].nationalId);

    const bySerial = await api.call('GET', `/v1/operator/certificates?serial=${operator.body[1].serial.toUpperCase()}`, { token: api.tokens.operator });
    expect(bySerial.body.map((c: { id: string }) => c.id)).toEqual([operator.body[1].id]);
    expect((await api.call('GET', '/v1/operator/certificates?serial=zz', { token: api.tokens.operator })).status).toBe(400);
    expect((await api.call('GET', '/v1/operator/certificates', { token: api.tokens.operator })).status).toBe(400);
    expect((await api.call('GET', '/v1/operator/certificates?cardNumber=NOSUCHCARD1', { token: api.tokens.operator })).status).toBe(404);
  });

  it('lists the audit log newest first, by record number (not as text)', async () => {
    const records = await api.call('GET', '/v1/audit?limit=1000', { token: api.tokens.auditor });
    const ids = records.body.map((r: { id: string }) => Number(r.id));
    expect(ids.length).toBeGreaterThan(10);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('says when a current CRL is close to or past its nextUpdate', async () => {
    const ca = (await api.pool.query(`SELECT id FROM certificate_authority WHERE role = 'issuing'`)).rows[0].id;
    const requested = await api.call('POST', `/v1/crl/authorities/${ca}/publications`, { token: api.tokens.operator, body: { kinds: ['complete'] } });
    expect(requested.status).toBe(202);
    // What the worker's crl-publish task does, in this process with the harness's clock.
    const openKey = keyOpenerFor(loadConfig(api.env));
    const deps = { pool: api.pool, signerFor: (c: { keyLocation: string }) => openKey(c.keyLocation, 'issuing-ca'), publicBaseUrl: 'http://127.0.0.1:3001', now: () => api.clock.now() };
    await runPublication(deps, requested.body.publications[0].id);
    const crl = (await api.pool.query(`SELECT crl_number::text AS n, this_update, next_update FROM published_crl WHERE kind = 'complete'`)).rows[0];
    const crlAttention = async () =>
      (await api.call('GET', '/v1/operator/overview', { token: api.tokens.operator })).body.attention.filter((a: { kind: string }) => a.kind === 'crl-next-update');
    expect(await crlAttention()).toEqual([]);
    const validity = crl.next_update.getTime() - crl.this_update.getTime();
    api.clock.set(new Date(crl.this_update.getTime() + validity * 0.8));
    expect(await crlAttention()).toEqual([expect.objectContaining({ data: expect.objectContaining({ crlKind: 'complete', crlNumber: crl.n, expired: false }) })]);
    api.clock.set(new Date(crl.next_update.getTime() + 1000));
    expect(await crlAttention()).toEqual([expect.objectContaining({ data: expect.objectContaining({ crlNumber: crl.n, expired: true }) })]);
    api.clock.set('2026-03-02T02:00:00Z');
  });

  it('retries a failed job as an operator, once, with an audit record', async () => {
    const added = await api.pool.query(`SELECT (graphile_worker.add_job('ocsp-refresh', '{}'::json, max_attempts := 2)).id::text AS id`);
    const id = added.rows[0].id;
    expect((await api.call('POST', `/v1/operator/jobs/${id}/retry`, { token: api.tokens.operator })).body.type).toBe('urn:moica-ca:problem:job-not-failed');
    await api.pool.query(`UPDATE graphile_worker._private_jobs SET attempts = 2, last_error = 'signer unavailable', run_at = now() + interval '1 day' WHERE id = $1`, [id]);
    expect((await api.call('POST', `/v1/operator/jobs/${id}/retry`, { token: api.tokens.auditor })).status).toBe(403);

    const retried = await api.call('POST', `/v1/operator/jobs/${id}/retry`, { token: api.tokens.operator });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id, task: 'ocsp-refresh', attempts: 0, maxAttempts: 2 });
    const job = await api.pool.query(`SELECT attempts, run_at <= now() AS due FROM graphile_worker.jobs WHERE id = $1`, [id]);
    expect(job.rows[0]).toEqual({ attempts: 0, due: true });
    const audit = await api.pool.query(`SELECT operation, actor_kind, before->>'lastError' AS error FROM audit_log WHERE subject_kind = 'job' AND subject_id = $1`, [id]);
    expect(audit.rows).toEqual([{ operation: 'job.retried', actor_kind: 'operator', error: 'signer unavailable' }]);
    expect((await api.call('POST', `/v1/operator/jobs/999999999/retry`, { token: api.tokens.operator })).status).toBe(404);
    expect((await api.call('POST', `/v1/operator/jobs/abc/retry`, { token: api.tokens.operator })).status).toBe(400);
    expect((await api.call('GET', '/v1/audit/verification', { token: api.tokens.auditor })).body).toMatchObject({ intact: true });
  });
});

/** The SQL rule the overview counts with is libs/policy's effectiveState, case by case. */
describe('effective state in SQL', () => {
  let api: CaApiHarness;
  beforeAll(async () => {
    api = await startCaApi();
  }, 60_000);
  afterAll(() => api?.close());

  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2031-01-01T00:00:00Z');
  const STORED: Record<string, CertificateFacts['status']> = { on_hold: 'on-hold-until-activated', valid: 'valid', suspended: 'suspended', revoked: 'revoked' };
  it.each(
    ['on_hold', 'valid', 'suspended', 'revoked'].flatMap((status) =>
      ['2025-12-31T23:59:59Z', '2026-01-01T00:00:00Z', '2028-06-01T00:00:00Z', '2031-01-01T00:00:00Z', '2031-01-01T00:00:01Z'].map((now) => [status, now]),
    ),
  )('%s at %s', async (status, now) => {
    const facts: CertificateFacts = {
      cardIssuedAt: notBefore,
      notBefore,
      notAfter,
      status: STORED[status],
      suspendedBy: status === 'suspended' ? 'holder' : null,
      revocationReason: null,
      isRenewal: false,
    };
    const { rows } = await api.pool.query(
      `SELECT ${effectiveStateSql('c', '$1')} AS state FROM (VALUES ($2::text, $3::timestamptz, $4::timestamptz)) AS c(status, not_before, not_after)`,
      [new Date(now), status, notBefore, notAfter],
    );
    expect(rows[0].state).toBe(effectiveState(facts, new Date(now)));
  });
});
