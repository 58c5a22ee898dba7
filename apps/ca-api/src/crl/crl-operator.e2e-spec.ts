/**
 * The CRL operator API (issue 7) on a real PostgreSQL: operators set
 * schedules (validated, audited, idempotent) and publish now; auditors read;
 * publications run by the worker's task body show in the lists and metrics.
 */
import { randomBytes } from 'node:crypto';
import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LoggerModule } from 'nestjs-pino';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { revocationIssuerFromCertificate, SoftwareSigner } from '@moica/pki';
import { Clock, createHttpApp, FakeClock, httpLoggerParams, openDatabase } from '@moica/platform';
import { makeTestCertificate } from '../../../../libs/pki/src/revocation/testing/test-certificates';
import { createTestDatabase } from '../../../../test/support/database';
import { runPublication } from '../../../../db/crl-publisher';
import { apiTokenDigest, newApiToken } from '../auth/api-token';
import { AuthGuard } from '../auth/auth.guard';
import { APP_CONFIG } from '../tokens';
import { CrlOperatorModule } from './crl-operator.module';

const NOW = new Date('2026-11-28T12:00:00Z');
const BASE_URL = 'http://crl.ops.example.tw';

describe('CRL operator API (ca-api, real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let app: NestFastifyApplication;
  let signer: SoftwareSigner;
  let caId: string;
  const tokens = { operator: newApiToken(), auditor: newApiToken(), clerk: newApiToken() };
  let key = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    signer = await SoftwareSigner.generate('software:ops-ca', { kind: 'EC', curve: 'P-256' });
    const caDer = await makeTestCertificate({
      serial: 7n,
      commonName: 'Ops CA',
      subjectPublicKeySpki: signer.publicKeySpki,
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      role: 'ca',
      signer,
    });
    const issuer = revocationIssuerFromCertificate(caDer);
    const ca = await pool.query(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm,
          spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after, crl_partitions)
       VALUES ('ops', 'issuing', 'CN=Ops CA', $1, 'software:/unused', 'EC-P-256', $2, $3, $4, $5, now(), now() + interval '9 years', 2) RETURNING id`,
      [
        Buffer.from(caDer),
        Buffer.from(issuer.certIdHashes.sha1.keyHash),
        Buffer.from(issuer.certIdHashes.sha256.keyHash),
        Buffer.from(issuer.certIdHashes.sha1.nameHash),
        Buffer.from(issuer.certIdHashes.sha256.nameHash),
      ],
    );
    caId = ca.rows[0].id;
    const office = await pool.query(`INSERT INTO registration_office (code, name) VALUES ('T01', 'Test office') RETURNING id`);
    for (const [role, token] of Object.entries(tokens)) {
      const staff = await pool.query(`INSERT INTO staff_member (office_id, name, role) VALUES ($1, $2, $3) RETURNING id`, [
        role === 'clerk' ? office.rows[0].id : null,
        `${role} one`,
        role,
      ]);
      await pool.query(`INSERT INTO api_credential (staff_id, kind, secret_hash) VALUES ($1, 'token', $2)`, [staff.rows[0].id, apiTokenDigest(token)]);
    }

    @Global()
    @Module({
      providers: [
        { provide: DataSource, useFactory: () => openDatabase(db.url, 'crl-operator-test') },
        { provide: Clock, useValue: new FakeClock({ fixed: NOW }) },
        // piiHmacKey keys the Idempotency-Key request fingerprints.
        { provide: APP_CONFIG, useValue: { PUBLIC_BASE_URL: BASE_URL, piiHmacKey: randomBytes(32) } },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [DataSource, Clock, APP_CONFIG],
    })
    class TestAppModule {}
    @Module({ imports: [LoggerModule.forRoot(httpLoggerParams('test', 'silent')), TestAppModule, CrlOperatorModule] })
    class TestRootModule {}
    app = await createHttpApp(TestRootModule);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    const dataSource = app?.get(DataSource);
    await app?.close();
    if (dataSource?.isInitialized) await dataSource.destroy(); // the test module's own DataSource: Nest does not close a factory's value
    await signer?.close();
    await pool?.end();
    await db?.drop();
  });

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, as: keyof typeof tokens | null, body?: unknown) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        headers: {
          ...(as ? { authorization: `Bearer ${tokens[as]}` } : {}),
          ...(method === 'GET' ? {} : { 'idempotency-key': `k-${++key}`, 'content-type': 'application/json' }),
        },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });

  it('shows the default schedules to auditors', async () => {
    const response = await call('GET', `/v1/crl/authorities/${caId}/schedules`, 'auditor');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      expect.objectContaining({ kind: 'complete', intervalSeconds: 86400, nextUpdateSeconds: 129600, isDefault: true }),
      expect.objectContaining({ kind: 'partition', isDefault: true }),
      expect.objectContaining({ kind: 'delta', intervalSeconds: 3600, nextUpdateSeconds: 7200, isDefault: true }),
    ]);
  });

  it('lets an operator set a cron schedule, audited; refuses an unsafe margin, other roles and anonymous calls', async () => {
    const saved = await call('PUT', `/v1/crl/authorities/${caId}/schedules/complete`, 'operator', {
      cron: '0 2 * * *',
      cronTimeZone: 'Asia/Taipei',
      nextUpdateSeconds: 129600,
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({ kind: 'complete', cron: '0 2 * * *', cronTimeZone: 'Asia/Taipei', isDefault: false });
    const audit = await pool.query(`SELECT actor_kind, operation, after FROM audit_log WHERE operation = 'crl.schedule-changed'`);
    expect(audit.rows).toEqual([expect.objectContaining({ actor_kind: 'operator', after: expect.objectContaining({ cron: '0 2 * * *' }) })]);

    const unsafe = await call('PUT', `/v1/crl/authorities/${caId}/schedules/delta`, 'operator', { intervalSeconds: 3600, nextUpdateSeconds: 3600 });
    expect(unsafe.statusCode).toBe(422);
    expect(unsafe.json().type).toBe('urn:moica-ca:problem:crl-schedule-invalid');
    const both = await call('PUT', `/v1/crl/authorities/${caId}/schedules/delta`, 'operator', { intervalSeconds: 3600, cron: '0 * * * *', nextUpdateSeconds: 9000 });
    expect(both.statusCode).toBe(422);
    expect((await call('PUT', `/v1/crl/authorities/${caId}/schedules/weekly`, 'operator', { intervalSeconds: 3600, nextUpdateSeconds: 9000 })).statusCode).toBe(400);
    expect((await call('PUT', `/v1/crl/authorities/${caId}/schedules/delta`, 'auditor', { intervalSeconds: 3600, nextUpdateSeconds: 9000 })).statusCode).toBe(403);
    expect((await call('GET', `/v1/crl/authorities/${caId}/schedules`, 'clerk')).statusCode).toBe(403);
    expect((await call('GET', `/v1/crl/authorities/${caId}/schedules`, null)).statusCode).toBe(401);
    expect((await call('GET', `/v1/crl/authorities/00000000-0000-0000-0000-000000000000/schedules`, 'operator')).statusCode).toBe(404);
  });

  it('publishes now through the worker queue; the CRLs are then listed, downloadable, and in the metrics', async () => {
    const accepted = await call('POST', `/v1/crl/authorities/${caId}/publications`, 'operator', { kinds: ['delta', 'complete', 'partition'] });
    expect(accepted.statusCode).toBe(202);
    const publications = accepted.json().publications as Array<{ id: string; kind: string; state: string }>;
    expect(publications.map((p) => p.kind).sort()).toEqual(['complete', 'delta', 'partition']);
    expect(publications.every((p) => p.state === 'queued')).toBe(true);
    const jobs = await pool.query(`SELECT key, queue_name FROM graphile_worker.jobs WHERE task_identifier = 'crl-publish'`);
    expect(jobs.rows.map((r) => r.key).sort()).toEqual(publications.map((p) => `crl-publication:${p.id}`).sort());
    expect(jobs.rows.every((r) => r.queue_name === `crl:${caId}`)).toBe(true);

    // What the worker's crl-publish task does with each job (in queue order: complete, partition, delta).
    for (const kind of ['complete', 'partition', 'delta']) {
      const id = publications.find((p) => p.kind === kind)!.id;
      await runPublication({ pool, signerFor: async () => signer, publicBaseUrl: BASE_URL, now: () => NOW }, id);
    }
    const listed = await call('GET', `/v1/crl/authorities/${caId}/publications`, 'auditor');
    expect(listed.json().map((p: { state: string }) => p.state)).toEqual(['published', 'published', 'published']);

    const crls = await call('GET', `/v1/crl/authorities/${caId}/crls`, 'auditor');
    expect(crls.statusCode).toBe(200);
    const rows = crls.json() as Array<{ id: string; crlNumber: string; kind: string; partition: number | null; url: string; baseCrlNumber: string | null }>;
    // complete, 2 partitions, 3 deltas (complete's and each partition's)
    expect(rows.map((r) => r.crlNumber)).toEqual(['6', '5', '4', '3', '2', '1']);
    expect(rows.find((r) => r.kind === 'complete')!.url).toBe(`${BASE_URL}/crl/ops/complete.crl`);
    expect(rows.filter((r) => r.kind === 'delta').map((r) => r.url).sort()).toEqual(
      [`${BASE_URL}/crl/ops/0-delta.crl`, `${BASE_URL}/crl/ops/1-delta.crl`, `${BASE_URL}/crl/ops/complete-delta.crl`].sort(),
    );
    const onlyPartition1 = await call('GET', `/v1/crl/authorities/${caId}/crls?kind=partition&partition=1`, 'auditor');
    expect(onlyPartition1.json()).toEqual([expect.objectContaining({ kind: 'partition', partition: 1, url: `${BASE_URL}/crl/ops/1.crl` })]);

    const der = await call('GET', `/v1/crl/crls/${rows[5].id}/der`, 'auditor');
    expect(der.statusCode).toBe(200);
    expect(der.headers['content-type']).toBe('application/pkix-crl');
    expect(der.rawPayload[0]).toBe(0x30);

    const metrics = await call('GET', `/v1/crl/metrics`, 'operator');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('moica_crl_next_update_seconds{ca="ops",kind="complete",partition="complete"} 129600');
    expect(metrics.body).toContain('moica_crl_next_update_seconds{ca="ops",kind="delta",partition="1"} 7200');
  });

  it('replays a publish-now retried with the same Idempotency-Key', async () => {
    const headers = { authorization: `Bearer ${tokens.operator}`, 'idempotency-key': 'same-key', 'content-type': 'application/json' };
    const inject = () =>
      app.getHttpAdapter().getInstance().inject({ method: 'POST', url: `/v1/crl/authorities/${caId}/publications`, headers, payload: JSON.stringify({ kinds: ['delta'] }) });
    const first = await inject();
    const second = await inject();
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    // The clock is frozen: a request for the same kind at the same instant is the same publication.
    const count = await pool.query(`SELECT count(*)::int AS n FROM crl_publication WHERE ca_id = $1 AND kind = 'delta'`, [caId]);
    expect(count.rows[0].n).toBe(1);
  });
});
