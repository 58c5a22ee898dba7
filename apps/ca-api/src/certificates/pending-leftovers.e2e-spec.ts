import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { IssuedCertificate } from '@moica/pki';
import { createDataSource, verifyAuditChain } from '@moica/db';
import { AppConfig, FakeClock, ProblemException, toProblem } from '@moica/platform';
import { createTestDatabase } from '../../../../test/support/database';
import { pendingLeftoverSweepTask } from '../jobs/pending-leftover-sweep.task';
import { insertTestCa, insertTestHolder } from '../notifications/testing/notice-fixtures';
import { CertificateIssuanceService, RecordedCertificate } from './certificate-issuance.service';
import { LEFTOVER_REASON, PENDING_LEFTOVER_SECONDS } from './pending-certificate.repository';
import { SharedPrimeRepository } from './shared-prime.repository';

/**
 * Pending leftovers on a real PostgreSQL (docs/operations.md): ca-api runs as
 * two or more instances, so a pending certificate may be another instance's
 * issuance in flight. Only rows pending for more than PENDING_LEFTOVER_SECONDS
 * are abandoned, at an instance's start and by the worker's sweep, each change
 * in one transaction with its audit record.
 */
const NOW = new Date('2031-03-01T04:00:00Z');
const secondsBefore = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

describe('pending certificate leftovers (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let dataSource: DataSource;
  let pool: Pool;
  let caId: string;
  let cardId: string;
  const clock = new FakeClock({ fixed: NOW });

  /** One ca-api instance's issuance service (each instance has its own; they share the database). */
  const instance = (at: FakeClock = clock) => new CertificateIssuanceService(dataSource, new SharedPrimeRepository(dataSource), at, {} as AppConfig);
  const sweep = (at: FakeClock = clock) => {
    const logged: string[] = [];
    const run = pendingLeftoverSweepTask(pool, at)({}, { logger: { warn: (message: string) => logged.push(message) } } as never);
    return Promise.resolve(run).then(() => logged);
  };
  /** A certificate recorded as pending (step 2 of issuance) at `createdAt`. */
  const recordPending = async (createdAt: Date): Promise<{ id: string; serial: string }> => {
    const serial = randomBytes(16);
    serial[0] &= 0x7f;
    const rows = await pool.query<{ id: string }>(
      `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, spki_sha256, crl_partition, status_changed_at, created_at)
       VALUES ($1, $2, 'signature', 'pending', $3, $4, '\\x30', $5, 0, $3, $3) RETURNING id`,
      [caId, serial, createdAt, new Date(createdAt.getTime() + 365 * 86_400_000), randomBytes(32)],
    );
    return { id: rows.rows[0].id, serial: serial.toString('hex') };
  };
  /** What step 3 hands to step 4 for that row: its id, its serial, a signed DER (a placeholder: nothing is signed here). */
  const signed = (id: string): [RecordedCertificate[], IssuedCertificate[]] => [
    [{ id, order: { request: {} }, prepared: { renewal: true, serial: { value: new Uint8Array([1]) } } } as unknown as RecordedCertificate],
    [{ der: new Uint8Array([0x30, 0x00]) } as IssuedCertificate],
  ];
  const statusOf = async (id: string) => (await pool.query(`SELECT status, der IS NOT NULL AS signed FROM certificate WHERE id = $1`, [id])).rows[0];
  const abandonedRecords = async () =>
    (await pool.query(`SELECT subject_id, after, detail, actor_kind FROM audit_log WHERE operation = 'certificate.abandoned' ORDER BY id`)).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await createDataSource(db.url, 'pending-leftovers-spec').initialize();
    pool = new Pool({ connectionString: db.url, max: 8 });
    caId = await insertTestCa(pool);
    const { holderId } = await insertTestHolder(pool);
    const card = await pool.query<{ id: string }>(
      `INSERT INTO card (holder_id, card_number, issued_at, cap_at) VALUES ($1, 'TP0900000000001', $2, $3) RETURNING id`,
      [holderId, secondsBefore(86_400), new Date(NOW.getTime() + 8 * 365 * 86_400_000)],
    );
    cardId = card.rows[0].id;
  }, 60_000);
  beforeEach(async () => {
    await pool.query(`DELETE FROM certificate_status_event`);
    await pool.query(`DELETE FROM certificate`);
  });
  afterAll(async () => {
    await pool.end();
    await dataSource.destroy();
    await db.drop();
  });

  it("another instance's start leaves a young pending certificate to the issuance in flight and abandons a leftover", async () => {
    const inFlight = await recordPending(secondsBefore(1));
    const leftover = await recordPending(secondsBefore(10 * 60));
    const records = (await abandonedRecords()).length;
    const first = instance();

    await instance().onApplicationBootstrap(); // a second instance boots (rolling restart)

    expect(await statusOf(inFlight.id)).toEqual({ status: 'pending', signed: false });
    expect(await statusOf(leftover.id)).toEqual({ status: 'abandoned', signed: false });
    // The first instance finishes signing and completes its issuance.
    await dataSource.transaction((manager) => first.complete(manager, ...signed(inFlight.id), cardId, 'valid'));
    expect(await statusOf(inFlight.id)).toEqual({ status: 'valid', signed: true });
    expect((await abandonedRecords()).slice(records)).toEqual([
      { subject_id: leftover.id, after: { status: 'abandoned', serials: [leftover.serial] }, detail: { why: LEFTOVER_REASON }, actor_kind: 'system' },
    ]);
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  });

  it(`the worker's sweep abandons what is pending for ${PENDING_LEFTOVER_SECONDS} s or more and leaves younger ones`, async () => {
    const young = await recordPending(secondsBefore(PENDING_LEFTOVER_SECONDS - 1));
    const atTheAge = await recordPending(secondsBefore(PENDING_LEFTOVER_SECONDS));
    const old = await recordPending(secondsBefore(3600));
    const records = (await abandonedRecords()).length;

    const logged = await sweep();

    expect(await statusOf(young.id)).toEqual({ status: 'pending', signed: false });
    expect(await statusOf(atTheAge.id)).toEqual({ status: 'abandoned', signed: false });
    expect(await statusOf(old.id)).toEqual({ status: 'abandoned', signed: false });
    const added = (await abandonedRecords()).slice(records);
    expect(added).toHaveLength(1);
    expect(added[0].after.serials.sort()).toEqual([atTheAge.serial, old.serial].sort());
    expect(added[0].detail).toEqual({ why: LEFTOVER_REASON });
    expect(logged.join('\n')).toContain(old.id);

    // The next minute's sweep: nothing new to abandon, no audit record; one second later the young one is a leftover too.
    expect(await sweep()).toEqual([]);
    expect(await abandonedRecords()).toHaveLength(records + 1);
    await sweep(new FakeClock({ fixed: new Date(NOW.getTime() + 1000) }));
    expect(await statusOf(young.id)).toEqual({ status: 'abandoned', signed: false });
    expect(await abandonedRecords()).toHaveLength(records + 2);
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  });

  it('sweeps running at once (several workers, instances starting) abandon each leftover once, each with its audit record', async () => {
    const leftovers = await Promise.all(Array.from({ length: 20 }, (_, i) => recordPending(secondsBefore(600 + i))));
    const young = await recordPending(secondsBefore(5));
    const records = (await abandonedRecords()).length;

    await Promise.all([sweep(), sweep(), sweep(), instance().abandonLeftovers(), instance().abandonLeftovers()]);

    const statuses = await pool.query(`SELECT status, count(*)::int AS n FROM certificate GROUP BY status ORDER BY status`);
    expect(statuses.rows).toEqual([{ status: 'abandoned', n: 20 }, { status: 'pending', n: 1 }]);
    expect(await statusOf(young.id)).toEqual({ status: 'pending', signed: false });
    const serials = (await abandonedRecords()).slice(records).flatMap((record) => record.after.serials as string[]);
    expect(serials.sort()).toEqual(leftovers.map((l) => l.serial).sort());
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  });

  it('an issuance whose certificate was abandoned while it signed answers 503 issuance-abandoned and stores no signature', async () => {
    const stalled = await recordPending(secondsBefore(PENDING_LEFTOVER_SECONDS + 30));
    await sweep();

    const error = await dataSource
      .transaction((manager) => instance().complete(manager, ...signed(stalled.id), cardId, 'valid'))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProblemException);
    expect(toProblem(error)).toEqual({
      type: 'urn:moica-ca:problem:issuance-abandoned',
      title: 'Issuance abandoned',
      status: 503,
      detail: expect.stringContaining('nothing was issued'),
    });
    expect(await statusOf(stalled.id)).toEqual({ status: 'abandoned', signed: false });
    expect((await pool.query(`SELECT count(*)::int AS n FROM certificate_status_event WHERE certificate_id = $1`, [stalled.id])).rows[0].n).toBe(0);
  });
});
