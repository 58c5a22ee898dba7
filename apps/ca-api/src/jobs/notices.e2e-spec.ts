import { Pool, type PoolClient } from 'pg';
import { Logger, run, runOnce, type TaskList } from 'graphile-worker';
import { FakeClock } from '@moica/platform';
import { createTestDatabase } from '../../../../test/support/database';
import { enqueueNotice } from '../notifications/enqueue-notice';
import { prepareJobQueue } from '../notifications/job-queue';
import { TransportNotificationChannels } from '../notifications/notification-channels';
import { scanNotices } from '../notifications/notice-scan.service';
import { noticeQueueMetrics, noticeQueueStatus } from '../notifications/notice-queue.service';
import { SmsGatewayChannel } from '../notifications/sms-gateway.channel';
import { SmtpEmailChannel } from '../notifications/smtp-email.channel';
import { insertTestCa, insertTestCard, insertTestHolder, type TestHolder } from '../notifications/testing/notice-fixtures';
import { startTestSmsGateway, startTestSmtpServer } from '../notifications/testing/message-receivers';
import { noticeScanTask } from './notice-scan.task';
import { sendNoticeTask } from './send-notice.task';

/**
 * Notices end to end (issue 8): a real PostgreSQL, graphile-worker, a real
 * SMTP server (smtp-server) and a local HTTP receiver speaking the SMS
 * gateway protocol. Time comes from a FakeClock.
 */
const silent = new Logger(() => () => undefined);
const at = (iso: string) => new Date(iso);
// docs/lifecycle.md's example card: first issued 2024-02-29 10:00 Taiwan time.
const ISSUED = at('2024-02-29T02:00:00Z');

describe('notices (PostgreSQL, graphile-worker, SMTP, SMS gateway)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let smtp: Awaited<ReturnType<typeof startTestSmtpServer>>;
  let sms: Awaited<ReturnType<typeof startTestSmsGateway>>;
  let channels: TransportNotificationChannels;
  let caId: string;
  const clock = { now: () => new Date(0) } as { now(): Date };

  const setNow = (iso: string) => {
    const fake = new FakeClock({ fixed: at(iso) });
    clock.now = () => fake.now();
  };
  const taskList = (options: { email?: boolean; sms?: boolean; maxAttempts?: number } = {}): TaskList => {
    const deliver = sendNoticeTask({ pool, channels, clock });
    const list: TaskList = { 'notice-scan': noticeScanTask(pool, clock, { maxAttempts: options.maxAttempts ?? 10 }) };
    if (options.email !== false) list['notice-email'] = deliver;
    if (options.sms !== false) list['notice-sms'] = deliver;
    return list;
  };
  /** Runs every ready job; with `untilEmpty`, also the retries, fast-forwarding their backoff. */
  const work = async (options: { email?: boolean; sms?: boolean; untilEmpty?: boolean } = {}) => {
    for (let round = 0; round < 30; round++) {
      await runOnce({ pgPool: pool, taskList: taskList(options), logger: silent });
      if (!options.untilEmpty) return;
      const waiting = await pool.query(
        `UPDATE graphile_worker._private_jobs SET run_at = now() WHERE locked_at IS NULL AND attempts < max_attempts RETURNING id`,
      );
      if (waiting.rowCount === 0) return;
    }
    throw new Error('jobs still waiting after 30 rounds');
  };
  const notices = async () =>
    (
      await pool.query(
        `SELECT n.id::text, n.kind, n.channel, n.addressee, n.state, n.attempts, n.last_error, n.due_at, n.card_id,
                n.recipient, n.recipient_sha256 IS NOT NULL AS hashed
           FROM notice n ORDER BY n.id`,
      )
    ).rows;
  const kindsByCard = async () => {
    const rows = (await pool.query(`SELECT card_id, kind FROM notice WHERE state = 'pending' ORDER BY kind`)).rows;
    const map = new Map<string, string[]>();
    for (const row of rows) map.set(row.card_id, [...(map.get(row.card_id) ?? []), row.kind]);
    return map;
  };
  const reset = async () => {
    await pool.query(`TRUNCATE notice, notice_scan, certificate, card, holder CASCADE`);
    await pool.query(`DELETE FROM graphile_worker._private_jobs`);
    smtp.received.length = 0;
    sms.received.length = 0;
    smtp.setRefusal(() => null);
    sms.setAnswer(null);
  };
  const inTransaction = async <T>(body: (client: PoolClient) => Promise<T>, commit = true): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return result;
    } finally {
      client.release();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 12 });
    pool.on('error', () => undefined); // a dropped idle connection is re-opened on next use
    pool.on('connect', (client) => client.on('error', () => undefined));
    await prepareJobQueue(pool);
    smtp = await startTestSmtpServer();
    sms = await startTestSmsGateway();
    channels = new TransportNotificationChannels(
      new SmtpEmailChannel({ url: smtp.url, from: '"內政部憑證管理中心 MOICA" <noreply@moica.test>' }),
      new SmsGatewayChannel({ url: sms.url, username: 'moica', password: 'secret' }),
    );
    caId = await insertTestCa(pool);
  });
  beforeEach(async () => {
    await reset();
    caId = await insertTestCa(pool);
  });
  afterAll(async () => {
    channels?.close();
    await smtp?.close();
    await sms?.close();
    await pool?.end();
    await db?.drop();
  });

  describe('transactional notices (enqueueNotice in the caller transaction)', () => {
    it('delivers a suspension notice by e-mail and SMS, once, and only if the transaction commits', async () => {
      setNow('2026-11-28T01:00:00Z');
      const holder = await insertTestHolder(pool, { name: '林美玲' });
      const { signatureId } = await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt: at('2025-06-01T00:00:00Z') });
      const request = {
        kind: 'certificate-suspended' as const,
        holderId: holder.holderId,
        certificateId: signatureId,
        eventKey: 'certificate-status-event:1',
        occurredAt: at('2026-11-28T01:00:00Z'),
      };
      await inTransaction((client) => enqueueNotice(client, { ...request, eventKey: 'rolled-back' }), false);
      const created = await inTransaction((client) => enqueueNotice(client, request));
      expect(created.map((notice) => notice.channel).sort()).toEqual(['email', 'sms']);
      // The same event again (a retried request): nothing new.
      expect(await inTransaction((client) => enqueueNotice(client, request))).toEqual([]);
      const payloads = (await pool.query(`SELECT payload FROM graphile_worker._private_jobs`)).rows.map((row) => row.payload);
      expect(payloads).toEqual(expect.arrayContaining(created.map((notice) => ({ noticeId: notice.noticeId }))));
      expect(JSON.stringify(payloads)).not.toMatch(/@|09\d{8}/);

      await work();
      await work();
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0].to).toEqual([holder.email]);
      expect(smtp.received[0].subject).toBe('【內政部憑證管理中心】自然人憑證已停用 / Your citizen certificate has been suspended');
      expect(smtp.received[0].messageId).toBe(`<notice-${created.find((n) => n.channel === 'email')!.noticeId}@moica.test>`);
      expect(sms.received).toHaveLength(1);
      expect(sms.received[0]).toMatchObject({ dstaddr: holder.mobile, username: 'moica' });
      expect(sms.received[0].smbody).toContain('民國115年11月28日停用');
      expect((await notices()).map((row) => [row.kind, row.state, row.attempts, row.hashed])).toEqual([
        ['certificate-suspended', 'sent', 1, true],
        ['certificate-suspended', 'sent', 1, true],
      ]);
    });

    it('tells a contact change to the old and the new address, and then forgets the old one', async () => {
      setNow('2026-11-28T01:00:00Z');
      const holder = await insertTestHolder(pool, { email: 'new@example.tw' });
      await inTransaction(async (client) => {
        // ca-api changes the address and enqueues the notice in one transaction.
        await client.query(`UPDATE holder SET contact_email = 'new@example.tw' WHERE id = $1`, [holder.holderId]);
        await enqueueNotice(client, {
          kind: 'contact-details-changed',
          holderId: holder.holderId,
          eventKey: 'audit:77',
          occurredAt: clock.now(),
          previousContact: { email: 'old@example.tw' },
        });
      });
      await work();
      expect(smtp.received.map((message) => message.to[0]).sort()).toEqual(['new@example.tw', 'old@example.tw']);
      expect(smtp.received.every((message) => message.subject.includes('聯絡電子郵件已變更'))).toBe(true);
      expect(sms.received).toHaveLength(0);
      const rows = await notices();
      expect(rows.map((row) => [row.addressee, row.state, row.recipient, row.hashed])).toEqual([
        ['holder', 'sent', null, true],
        ['previous-contact', 'sent', null, true],
      ]);
    });
  });

  describe('lifecycle notices: the policy decides, time is controlled', () => {
    // At each instant, exactly the notices of docs/lifecycle.md's table (card issued 2024-02-29 10:00 Taiwan).
    it.each([
      ['2028-12-30T01:59:59Z', [], [], [], []],
      ['2028-12-30T02:00:00Z', ['renewal-window-opened'], [], [], ['renewal-window-opened']],
      ['2029-02-28T02:00:00Z', ['expired-but-renewable'], [], [], []],
      ['2031-12-01T02:00:00Z', ['renewal-window-closing'], [], [], []],
      ['2031-12-31T02:00:00Z', ['reissuance-window-opened', 'renewal-window-closing'], ['reissuance-window-opened'], [], []],
      ['2033-01-29T02:00:00Z', ['reissuance-window-closing'], ['reissuance-window-closing'], [], []],
      ['2033-02-28T02:00:00Z', [], [], [], []],
    ])('at %s: valid %j, renewed %j, revoked %j, suspended %j', async (now, valid, renewed, revoked, suspended) => {
      const cards: Record<string, string> = {};
      for (const [name, options] of [
        ['valid', {}],
        ['renewed', { renewedAt: at('2029-01-10T00:00:00Z') }],
        ['revoked', { status: 'revoked' as const }],
        ['suspended', { status: 'suspended' as const }],
      ] as const) {
        const holder = await insertTestHolder(pool);
        cards[name] = (await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt: ISSUED, ...options })).cardId;
      }
      setNow(now);
      await scanNotices(pool, clock);
      const found = await kindsByCard();
      expect(found.get(cards.valid) ?? []).toEqual(valid);
      expect(found.get(cards.renewed) ?? []).toEqual(renewed);
      expect(found.get(cards.revoked) ?? []).toEqual(revoked);
      expect(found.get(cards.suspended) ?? []).toEqual(suspended);
    });

    it('daily scans create each notice once, on the day it becomes due, and the worker sends it once', async () => {
      const holder = await insertTestHolder(pool);
      await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt: ISSUED });
      const sentOn: string[] = [];
      for (let day = 25; day <= 31; day++) {
        setNow(`2028-12-${day}T03:00:00Z`);
        await scanNotices(pool, clock);
        await work();
        if (smtp.received.length > sentOn.length) sentOn.push(`12-${day}`);
      }
      for (let day = 1; day <= 5; day++) {
        setNow(`2029-01-0${day}T03:00:00Z`);
        await scanNotices(pool, clock);
        await work();
      }
      expect(sentOn).toEqual(['12-30']);
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0].to).toEqual([holder.email]);
      expect(smtp.received[0].subject).toContain('自然人憑證即將到期，已可辦理展期');
      expect(smtp.received[0].raw).toContain('2029-02-28'); // "expires on" in English
      expect((await notices()).map((row) => [row.kind, row.state])).toEqual([['renewal-window-opened', 'sent']]);
    });
  });

  describe('catch-up after downtime', () => {
    it('a worker down for a week sends what became due in that week, once', async () => {
      const holder = await insertTestHolder(pool);
      await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt: ISSUED });
      setNow('2028-12-27T03:00:00Z');
      await scanNotices(pool, clock);
      setNow('2029-01-03T03:00:00Z'); // back a week later: renewal opened on 12-30 meanwhile
      await scanNotices(pool, clock);
      await work();
      await scanNotices(pool, clock);
      await work();
      expect(smtp.received).toHaveLength(1);
      expect((await notices()).map((row) => [row.kind, row.state])).toEqual([['renewal-window-opened', 'sent']]);
    });

    it('a notice whose moment passed during the outage is recorded as skipped, never sent late', async () => {
      const holder = await insertTestHolder(pool);
      await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt: ISSUED, renewedAt: at('2031-12-20T00:00:00Z') });
      setNow('2033-01-20T03:00:00Z');
      await scanNotices(pool, clock); // re-issuance opened earlier, noticed by this first scan
      await work();
      expect(smtp.received.map((message) => message.subject)).toEqual([expect.stringContaining('已可線上換發')]);
      // Down for 40 days: "re-issuance closing" was due on 2033-01-29 and pointless from 2033-02-28.
      setNow('2033-03-01T03:00:00Z');
      await scanNotices(pool, clock);
      await work();
      expect(smtp.received).toHaveLength(1);
      const rows = await notices();
      expect(rows.map((row) => [row.kind, row.state])).toEqual([
        ['reissuance-window-opened', 'sent'],
        ['reissuance-window-closing', 'skipped'],
      ]);
      expect(rows[1].last_error).toMatch(/^stale/);
    });

    it('a notice queued but not delivered before it went stale is skipped at delivery (channel not configured meanwhile)', async () => {
      const holder = await insertTestHolder(pool);
      await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt: ISSUED });
      setNow('2029-02-27T03:00:00Z');
      await scanNotices(pool, clock);
      await work({ email: false }); // no SMTP: the job waits, the notice stays pending
      expect((await notices()).map((row) => row.state)).toEqual(['pending']);
      setNow('2029-03-01T03:00:00Z'); // expired: "renewal window opened" is pointless now
      await scanNotices(pool, clock);
      await work();
      expect((await notices()).map((row) => [row.kind, row.state])).toEqual([
        ['renewal-window-opened', 'skipped'],
        ['expired-but-renewable', 'sent'],
      ]);
      expect(smtp.received.map((message) => message.subject)).toEqual([expect.stringContaining('已到期，仍可辦理展期')]);
    });
  });

  describe('exactly once', () => {
    const dueCards = async (count: number): Promise<TestHolder[]> => {
      const holders: TestHolder[] = [];
      for (let i = 0; i < count; i++) {
        const holder = await insertTestHolder(pool);
        holders.push(holder);
        // renewal opened between 0 and 29 days before 2029-01-15
        const issuedAt = new Date(at('2024-03-16T02:00:00Z').getTime() - i * 86_400_000);
        await insertTestCard(pool, { caId, holderId: holder.holderId, issuedAt });
      }
      return holders;
    };

    it('three workers at once over the same due set: every holder gets one message', async () => {
      const holders = await dueCards(30);
      setNow('2029-01-15T03:00:00Z');
      // Three scans (as if three operators triggered it) and three worker processes.
      for (let i = 0; i < 3; i++) await pool.query(`SELECT graphile_worker.add_job('notice-scan', '{}'::json)`);
      const runners = await Promise.all(
        [1, 2, 3].map(() => run({ pgPool: pool, taskList: taskList(), concurrency: 3, logger: silent, pollInterval: 100, noHandleSignals: true })),
      );
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const { rows } = await pool.query(
          `SELECT (SELECT count(*) FROM graphile_worker.jobs)::int AS jobs, (SELECT count(*) FROM notice WHERE state = 'sent')::int AS sent`,
        );
        if (rows[0].jobs === 0 && rows[0].sent === 30) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await Promise.all(runners.map((runner) => runner.stop()));
      expect(smtp.received).toHaveLength(30);
      expect(smtp.received.map((message) => message.to[0]).sort()).toEqual(holders.map((holder) => holder.email).sort());
      expect(await notices()).toHaveLength(30);
    });

    it('a scan that crashes mid-way leaves no duplicate when it runs again', async () => {
      await dueCards(20);
      setNow('2029-01-15T03:00:00Z');
      let connections = 0;
      const crashing = {
        query: pool.query.bind(pool),
        connect: async () => {
          if (++connections === 3) throw new Error('worker killed');
          return pool.connect();
        },
      } as unknown as Pool;
      await expect(scanNotices(crashing, clock, { sliceDays: 7 })).rejects.toThrow(/worker killed/);
      const partial = (await notices()).length;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(20);
      expect((await pool.query(`SELECT count(*)::int AS n FROM notice_scan`)).rows[0].n).toBe(0);
      await scanNotices(pool, clock, { sliceDays: 7 });
      await scanNotices(pool, clock, { sliceDays: 7 });
      expect(await notices()).toHaveLength(20);
      expect((await pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'notice-email'`)).rows[0].n).toBe(20);
      await work();
      expect(smtp.received).toHaveLength(20);
    });

    it('a delivery interrupted by a crash (claimed, lease expired) is completed once', async () => {
      const [holder] = await dueCards(1);
      setNow('2029-01-15T03:00:00Z');
      await scanNotices(pool, clock);
      // A worker claimed it and died before sending: its lease has run out.
      await pool.query(`UPDATE notice SET state = 'sending', attempts = 1, claimed_until = now() - interval '1 second'`);
      await work();
      await work();
      expect(smtp.received.map((message) => message.to[0])).toEqual([holder.email]);
      expect((await notices()).map((row) => [row.state, row.attempts])).toEqual([['sent', 2]]);
    });
  });

  describe('a failing SMTP server', () => {
    it('retries with backoff, records the failure, and sends nothing twice after it recovers', async () => {
      setNow('2026-11-28T01:00:00Z');
      const flaky = await insertTestHolder(pool, { email: 'flaky@example.tw' });
      const down = await insertTestHolder(pool, { email: 'down@example.tw' });
      const unknown = await insertTestHolder(pool, { email: 'unknown@example.tw' });
      const refusals = new Map<string, number>();
      smtp.setRefusal((address) => {
        const seen = (refusals.get(address) ?? 0) + 1;
        refusals.set(address, seen);
        if (address === 'flaky@example.tw' && seen <= 2) return { code: 451, text: 'try again later' };
        if (address === 'down@example.tw') return { code: 421, text: 'service not available' };
        if (address === 'unknown@example.tw') return { code: 550, text: 'no such mailbox unknown@example.tw' };
        return null;
      });
      for (const holder of [flaky, down, unknown]) {
        await enqueueNotice(pool, {
          kind: 'certificate-issued',
          holderId: holder.holderId,
          eventKey: `issued:${holder.holderId}`,
          occurredAt: clock.now(),
          maxAttempts: 3,
        });
      }
      await work({ untilEmpty: true });
      expect(smtp.received.map((message) => message.to[0])).toEqual(['flaky@example.tw']);
      const rows = await notices();
      expect(rows.map((row) => [row.state, row.attempts])).toEqual([
        ['sent', 3],
        ['failed', 3],
        ['failed', 1],
      ]);
      expect(rows[1].last_error).toMatch(/^gave up after 3 attempts: e-mail refused: SMTP 421/);
      expect(rows[2].last_error).toMatch(/^permanent: e-mail refused: SMTP 550/);
      expect(rows[2].last_error).not.toContain('unknown@example.tw');

      // Operators see it, without addresses.
      const status = await noticeQueueStatus(pool, { now: clock.now() });
      expect(status.failedNotices.map((notice) => notice.id)).toEqual([rows[2].id, rows[1].id]);
      expect(status.recentNotices.map((notice) => notice.id)).toEqual([rows[0].id]);
      expect(JSON.stringify(status)).not.toMatch(/example\.tw/);
      const metrics = await noticeQueueMetrics(pool, { now: clock.now() });
      expect(metrics).toContain('moica_notices{kind="certificate-issued",channel="email",state="failed"} 2');
      expect(metrics).toContain('moica_notices_sent_24h{kind="certificate-issued",channel="email"} 1');

      // The server recovers: nothing is sent again.
      smtp.setRefusal(() => null);
      await work({ untilEmpty: true });
      expect(smtp.received).toHaveLength(1);
    });

    it('SMS: a gateway error is retried, an invalid number fails for good, a repeated clientid is not delivered twice', async () => {
      setNow('2026-11-28T01:00:00Z');
      const holder = await insertTestHolder(pool, { mobile: '0912345678' });
      const invalid = await insertTestHolder(pool, { mobile: '0900000000' });
      let calls = 0;
      sms.setAnswer((message) => {
        if (message.dstaddr === '0900000000') return { status: 200, body: '[1]\nstatuscode=v\n' };
        return ++calls === 1 ? { status: 503, body: 'busy' } : null;
      });
      for (const h of [holder, invalid]) {
        await enqueueNotice(pool, {
          kind: 'certificate-revoked',
          holderId: h.holderId,
          eventKey: `revoked:${h.holderId}`,
          occurredAt: clock.now(),
          channels: ['sms'],
          maxAttempts: 3,
        });
      }
      await work({ untilEmpty: true });
      expect(sms.received.map((message) => message.dstaddr)).toEqual(['0912345678']);
      expect((await notices()).map((row) => [row.state, row.attempts])).toEqual([
        ['sent', 2],
        ['failed', 1],
      ]);
      // The gateway drops a clientid it has seen (the crash window of deliverNotice).
      await new SmsGatewayChannel({ url: sms.url, username: 'moica', password: 'secret' }).send({
        to: '0912345678',
        text: 'again',
        idempotencyKey: sms.received[0].clientid,
      });
      expect(sms.received).toHaveLength(1);
    });
  });
});
