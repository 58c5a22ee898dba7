import { Pool } from 'pg';
import { noticesDue } from '@moica/policy';
import { FakeClock } from '@moica/platform';
import { createTestDatabase } from '../../../../test/support/database';
import { seedSyntheticCertificates } from '../../../../tools/synthetic-data';
import { prepareJobQueue } from '../notifications/job-queue';
import { decide, scanNotices } from '../notifications/notice-scan.service';
import { currentCertificatesEndingIn } from '../notifications/notice.repository';

/**
 * The scan reads only a few notAfter ranges; this checks on synthetic data
 * spread over 9 years that it finds exactly what the policy says when every
 * certificate is examined (tools/synthetic-data.ts, the benchmark's loader).
 */
describe('notice scan over synthetic certificates (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  const asOf = new Date('2031-06-01T01:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    await prepareJobQueue(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('seeds plausible rows that satisfy every constraint of the schema', async () => {
    const report = await seedSyntheticCertificates(pool, { count: 4000, revokedShare: 0.1, suspendedShare: 0.05, now: asOf });
    expect(report.certificates).toBe(4000);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS certificates,
              count(DISTINCT card_id)::int AS cards,
              count(*) FILTER (WHERE renewed_from_id IS NOT NULL)::int AS renewals,
              count(*) FILTER (WHERE status = 'revoked')::int AS revoked,
              count(*) FILTER (WHERE status = 'suspended')::int AS suspended,
              count(DISTINCT serial)::int AS serials,
              min(octet_length(serial))::int AS serial_length,
              min(not_before) >= $1::timestamptz - interval '9 years' AS spread_from,
              max(not_before) <= $1::timestamptz AS spread_to
         FROM certificate`,
      [asOf],
    );
    expect(rows[0]).toMatchObject({ certificates: 4000, cards: report.cards, renewals: 2 * report.renewedCards, serials: 4000 });
    expect(rows[0].serial_length).toBe(16);
    expect(rows[0].revoked).toBeGreaterThan(0);
    expect(rows[0].suspended).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ spread_from: true, spread_to: true });
  });

  it.each([
    ['first scan (no cursor)', null, '2031-06-01T01:00:00Z'],
    ['daily scan', '2031-06-01T01:00:00Z', '2031-06-02T01:00:00Z'],
    ['a week of catch-up', '2031-06-02T01:00:00Z', '2031-06-09T01:00:00Z'],
    ['forty days of catch-up', '2031-06-09T01:00:00Z', '2031-07-19T01:00:00Z'],
  ])('%s finds exactly the notices of a brute-force pass over every certificate', async (_name, since, until) => {
    const sinceAt = since ? new Date(since) : null;
    const untilAt = new Date(until);
    const everything = await currentCertificatesEndingIn(pool, new Date('1990-01-01'), new Date('2100-01-01'));
    const expected = everything.flatMap((certificate) => decide(certificate, sinceAt, untilAt));
    const expectedDue = everything.flatMap((certificate) =>
      noticesDue(certificate.facts, untilAt).filter((notice) => !sinceAt || notice.dueAt > sinceAt),
    );
    expect(expected.filter((row) => row.state === 'pending')).toHaveLength(expectedDue.length);
    // 1,800 cards: a one-day span may well have no notice; the first scan has many
    if (!sinceAt) expect(expected.length).toBeGreaterThan(100);

    await pool.query(`TRUNCATE notice, notice_scan`);
    await pool.query(`DELETE FROM graphile_worker._private_jobs`);
    const report = await scanNotices(pool, new FakeClock({ fixed: untilAt }), { since: sinceAt });
    const { rows } = await pool.query(`SELECT card_id, kind, due_at, state FROM notice ORDER BY card_id, kind, state`);
    const key = (row: { cardId?: string; card_id?: string; kind: string; dueAt?: Date; due_at?: Date; state: string }) =>
      `${row.cardId ?? row.card_id}|${row.kind}|${(row.dueAt ?? row.due_at)!.toISOString()}|${row.state}`;
    expect(rows.map(key).sort()).toEqual(expected.map(key).sort());
    expect(report.queued + report.skipped).toBe(expected.length);
    // and it read only a fraction of the certificates (except the first scan, which looks back years)
    if (sinceAt) expect(report.certificatesExamined).toBeLessThan(everything.length / 4);
  });
});
