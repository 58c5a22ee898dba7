/**
 * CRL downloads as a relying party sees them (issue 7): the current CRL of
 * each scope at the certificates' URL, application/pkix-crl, ETag,
 * Last-Modified, Cache-Control until nextUpdate, 304 on conditional
 * requests, 404 problem+json otherwise; on a real PostgreSQL.
 */
import { randomBytes, createHash } from 'node:crypto';
import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LoggerModule } from 'nestjs-pino';
import { Pool } from 'pg';
import { AppConfig, createHttpApp, FakeClock, httpLoggerParams } from '@moica/platform';
import { createTestDatabase } from '../../../../test/support/database';
import { CrlDistributionModule } from './crl-distribution.module';

const NOW = new Date('2026-11-28T12:00:00Z');
const CA = 'dev issuing';

describe('CRL distribution (ocsp-responder, real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let app: NestFastifyApplication;
  const published: Record<string, { der: Buffer; thisUpdate: Date; nextUpdate: Date }> = {};

  async function insertCrl(caId: string, number: number, kind: string, partition: number | null, der: Buffer, thisUpdate: Date, hours: number) {
    const nextUpdate = new Date(thisUpdate.getTime() + hours * 3600_000);
    await pool.query(
      `INSERT INTO published_crl (ca_id, crl_number, kind, partition, base_crl_number, this_update, next_update, entry_count, byte_size, sha256, der)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)`,
      [caId, number, kind, partition, kind === 'delta' ? number - 1 : null, thisUpdate, nextUpdate, der.length, createHash('sha256').update(der).digest(), der],
    );
    return { der, thisUpdate, nextUpdate };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    const { rows } = await pool.query(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm,
          spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after, crl_partitions)
       VALUES ($1, 'issuing', 'CN=t', '\\x30', 'software:/x', 'RSA-2048', '\\x01', '\\x01', '\\x01', '\\x01', now(), now() + interval '1 year', 4)
       RETURNING id`,
      [CA],
    );
    const caId = rows[0].id;
    await insertCrl(caId, 1, 'complete', null, randomBytes(1000), new Date('2026-11-27T00:00:00Z'), 36);
    // 300 kB: read back by binary COPY across many network chunks
    published.complete = await insertCrl(caId, 5, 'complete', null, randomBytes(300_000), new Date('2026-11-28T00:00:00Z'), 36);
    published.partition3 = await insertCrl(caId, 6, 'partition', 3, randomBytes(5000), new Date('2026-11-28T00:00:01Z'), 36);
    published.delta3 = await insertCrl(caId, 7, 'delta', 3, randomBytes(500), new Date('2026-11-28T11:00:00Z'), 2);
    published.completeDelta = await insertCrl(caId, 8, 'delta', null, randomBytes(600), new Date('2026-11-28T11:00:00Z'), 2);

    @Module({ imports: [LoggerModule.forRoot(httpLoggerParams('test', 'silent')), CrlDistributionModule.forRoot({ DATABASE_URL: db.url, clock: new FakeClock({ fixed: NOW }) } as unknown as AppConfig)] })
    class TestModule {}
    app = await createHttpApp(TestModule);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await db?.drop();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });

  it.each([
    ['complete.crl', 'complete'],
    ['3.crl', 'partition3'],
    ['3-delta.crl', 'delta3'],
    ['complete-delta.crl', 'completeDelta'],
  ])('serves /crl/dev%%20issuing/%s: the newest CRL with its caching headers', async (file, key) => {
    const response = await get(`/crl/dev%20issuing/${file}`);
    const crl = published[key];
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/pkix-crl');
    expect(Buffer.compare(response.rawPayload, crl.der)).toBe(0);
    expect(response.headers.etag).toBe(`"${createHash('sha256').update(crl.der).digest('hex')}"`);
    expect(response.headers['last-modified']).toBe(crl.thisUpdate.toUTCString());
    expect(response.headers.expires).toBe(crl.nextUpdate.toUTCString());
    expect(response.headers['cache-control']).toBe(`public, max-age=${(crl.nextUpdate.getTime() - NOW.getTime()) / 1000}, no-transform`);
  });

  it('answers 304 to If-None-Match and If-Modified-Since, 200 to a stale ETag', async () => {
    const first = await get('/crl/dev%20issuing/complete.crl');
    expect((await get('/crl/dev%20issuing/complete.crl', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
    expect((await get('/crl/dev%20issuing/complete.crl', { 'if-modified-since': String(first.headers['last-modified']) })).statusCode).toBe(304);
    expect((await get('/crl/dev%20issuing/complete.crl', { 'if-modified-since': new Date('2026-11-27T12:00:00Z').toUTCString() })).statusCode).toBe(200);
    const stale = await get('/crl/dev%20issuing/complete.crl', { 'if-none-match': '"0000"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.length).toBe(300_000);
  });

  it('serves HEAD with the headers only', async () => {
    const response = await app.getHttpAdapter().getInstance().inject({ method: 'HEAD', url: '/crl/dev%20issuing/3.crl' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBeDefined();
    expect(response.rawPayload.length).toBe(0);
  });

  it.each([
    '/crl/dev%20issuing/2.crl', // no CRL published for partition 2 yet
    '/crl/other/complete.crl',
    '/crl/dev%20issuing/x.crl',
    '/crl/dev%20issuing/03.crl',
  ])('answers 404 problem+json for %s', async (url) => {
    const response = await get(url);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });
});
