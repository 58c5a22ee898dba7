/**
 * An Idempotency-Key claim taken over by a retry while the first request is
 * only slow, on the real routes that used to commit before their answer was
 * recorded: a key-operation approval, a CRL publish-now and schedule change,
 * a household-registration event, a job retry, the online user-code reset and
 * the start of an e-mail verification. The test holds the audit chain head
 * (audit_chain_head, row-locked by every audit append until COMMIT), so each
 * request waits inside its transaction after its change, and moves the clock
 * past STALE_CLAIM_SECONDS instead of waiting; a route that appends no audit
 * record (the e-mail verification start) is held by a lock of its own.
 * The taken-over request must roll back: one state change, the retry's.
 * On an online route the card's one-time challenge is used up in that
 * transaction too, so the retry can still present it.
 */
import type { PoolClient } from 'pg';
import { ensureWorkerSchema } from '../../../db/crl-schedule';
import { createStaffWithToken } from '../src/auth/staff-provisioning';
import { STALE_CLAIM_SECONDS } from '../src/idempotency/idempotency-claim';
import type { ChallengePurpose } from '../src/online/holder-challenge.repository';
import { startTestSmtpServer } from '../src/notifications/testing/message-receivers';
import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';

type Send = () => Promise<{ status: number; body: any; headers: Headers }>;

describe('Idempotency-Key take-over on routes that commit in their own transaction (ca-api, real PostgreSQL)', () => {
  let api: CaApiHarness;
  let smtp: Awaited<ReturnType<typeof startTestSmtpServer>>;
  let secondOperator: string;

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    api = await startCaApi({ env: { SMTP_URL: smtp.url, SMTP_FROM: 'MOICA <noreply@example.tw>' } });
    secondOperator = (await createStaffWithToken(api.pool, { name: 'Operator Lee', role: 'operator', officeId: null }, api.clock.now())).token;
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await smtp?.close();
  });

  /** Every request that appends an audit record waits for this lock, inside its transaction. */
  const AUDIT_CHAIN_HEAD = 'SELECT 1 FROM audit_chain_head FOR UPDATE';

  /** Holds a lock (by default the audit chain head) in a transaction of the test's own until released. */
  async function holdLock(statement = AUDIT_CHAIN_HEAD): Promise<{ release(): Promise<void> }> {
    const holder: PoolClient = await api.pool.connect();
    await holder.query('BEGIN');
    await holder.query(statement);
    return {
      async release() {
        await holder.query('COMMIT');
        holder.release();
      },
    };
  }

  /** Waits until `count` backends of this database wait for a lock. */
  async function lockWaiters(count: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const { rows } = await api.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (rows[0].n >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${count} lock waiter(s) expected`);
  }

  /**
   * A waits inside its transaction; the clock moves past the stale time; the
   * client retries as B (same key, same body), which takes the claim over and
   * waits too; then both go on. `lock` is what A waits for after its change.
   */
  async function takeOver(send: Send, lock = AUDIT_CHAIN_HEAD) {
    const hold = await holdLock(lock);
    try {
      const a = send();
      await lockWaiters(1);
      api.clock.advance((STALE_CLAIM_SECONDS + 1) * 1000);
      const b = send();
      await lockWaiters(2);
      await hold.release();
      return { a: await a, b: await b };
    } catch (error) {
      await hold.release().catch(() => undefined);
      throw error;
    }
  }

  /** The retry's answer is the recorded one: the same key again gets it back, replayed. */
  async function expectReplayed(send: Send, answer: { status: number; body: any }): Promise<void> {
    const replay = await send();
    expect(replay.status).toBe(answer.status);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(answer.body);
  }

  it('approves a key operation once: the taken-over approval rolls back, the retry approves and its answer is replayed', async () => {
    const requested = await api.call('POST', '/v1/operator/key-operations', {
      token: api.tokens.operator,
      body: {
        operation: 'rotate-ocsp-signer',
        parameters: {
          ca: 'dev-issuing',
          subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'OCSP Responder takeover' }],
          keyLocation: `software:${api.keysDir}/ocsp-takeover.key.pem`,
          keyAlgorithm: 'EC-P-256',
          validityDays: 30,
        },
      },
    });
    expect(requested.status).toBe(201);
    const id = requested.body.id;
    const approve = () =>
      api.call('POST', `/v1/operator/key-operations/${id}/approval`, { token: secondOperator, body: {}, idempotencyKey: 'approval-takeover' });

    const { a, b } = await takeOver(approve);

    expect(a.status).toBe(409);
    expect(a.body).toMatchObject({ type: 'urn:moica-ca:problem:idempotency-claim-lost', detail: expect.stringContaining('rolled back') });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ id, state: 'approved' });
    expect(b.body.approvals).toHaveLength(2);
    const audit = await api.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'key-ceremony.approved' AND subject_id = $1`, [id]);
    expect(audit.rows[0].n).toBe(1);
    await expectReplayed(approve, b);
  });

  it('queues a publish-now once: the taken-over request queues nothing, the retry’s publication is the only one', async () => {
    const ca = await api.pool.query(`SELECT id FROM certificate_authority WHERE role = 'issuing' LIMIT 1`);
    const caId = ca.rows[0].id;
    const publishNow = () =>
      api.call('POST', `/v1/crl/authorities/${caId}/publications`, { token: api.tokens.operator, body: { kinds: ['complete'] }, idempotencyKey: 'publish-now-takeover' });
    // graphile-worker's schema is created by the first request, outside its transaction: not part of the race.
    expect((await api.call('POST', `/v1/crl/authorities/${caId}/publications`, { token: api.tokens.operator, body: { kinds: ['delta'] } })).status).toBe(202);

    const { a, b } = await takeOver(publishNow);

    expect(a.status).toBe(409);
    expect(a.body.type).toBe('urn:moica-ca:problem:idempotency-claim-lost');
    expect(b.status).toBe(202);
    expect(b.body.publications).toHaveLength(1);
    const queued = await api.pool.query(`SELECT id FROM crl_publication WHERE ca_id = $1 AND trigger = 'manual' AND kind = 'complete'`, [caId]);
    expect(queued.rows.map((row) => row.id)).toEqual([b.body.publications[0].id]);
    const jobs = await api.pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1`, [`crl-publication:${b.body.publications[0].id}`]);
    expect(jobs.rows[0].n).toBe(1);
    const audit = await api.pool.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE operation = 'crl.publish-now' AND subject_id = $1 AND after->'kinds' = '["complete"]'::jsonb`,
      [caId],
    );
    expect(audit.rows[0].n).toBe(1);
    await expectReplayed(publishNow, b);
  });

  /** A card issued at the counter to a holder of its own. */
  async function issueCard(n: number): Promise<{ card: TestCard; cardNumber: string; nationalId: string; holderId: string }> {
    const cardNumber = `TP88${String(n).padStart(11, '0')}`;
    const nationalId = validNationalId(880 + n);
    const card = await TestCard.create(cardNumber);
    const issued = await api.call('POST', '/v1/applications', {
      token: api.tokens.clerk,
      body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
        applicant: { name: '周接手', nationalId, dateOfBirth: '1990-01-01', mobile: '0911111111', email: `t${n}@example.tw` },
      }),
    });
    expect(issued.status).toBe(201);
    const holder = await api.pool.query(`SELECT holder_id FROM card WHERE card_number = $1`, [cardNumber]);
    return { card, cardNumber, nationalId, holderId: holder.rows[0].holder_id };
  }

  /** A card issued at the counter, and its signature over a fresh challenge (user-code reset unless told). */
  async function cardWithSignedChallenge(
    n: number,
    purpose: ChallengePurpose = 'user-code-reset',
  ): Promise<{ cardNumber: string; holderId: string; cardSignature: { challengeId: string; signature: string } }> {
    const { card, cardNumber, holderId } = await issueCard(n);
    const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber, purpose } });
    expect(challenge.status).toBe(201);
    const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
    return { cardNumber, holderId, cardSignature: { challengeId: challenge.body.challengeId, signature } };
  }

  async function userCodeResets(holderId: string): Promise<number> {
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'holder.user-code-reset' AND subject_id = $1`, [holderId]);
    return rows[0].n;
  }

  it('resets a user code online once: the taken-over request rolls back and leaves the card challenge to the retry', async () => {
    const { holderId, cardSignature } = await cardWithSignedChallenge(1);
    const reset = () => api.call('POST', '/v1/online/user-code', { body: { cardSignature, newUserCode: 'Takeover@1' }, idempotencyKey: 'user-code-takeover' });

    // The retry waits on the challenge row that the first request used up, uncommitted; the first then rolls back.
    const { a, b } = await takeOver(reset);

    expect(a.status).toBe(409);
    expect(a.body.type).toBe('urn:moica-ca:problem:idempotency-claim-lost');
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ userCode: 'reset' });
    expect(await userCodeResets(holderId)).toBe(1);
    const challenge = await api.pool.query(`SELECT used_at FROM holder_challenge WHERE id = $1`, [cardSignature.challengeId]);
    expect(challenge.rows[0].used_at).not.toBeNull();
    await expectReplayed(reset, b);
  });

  it('lets one of two concurrent requests with one card challenge through; the other, waiting on it, is refused challenge-invalid', async () => {
    const { holderId, cardSignature } = await cardWithSignedChallenge(2);
    const reset = (key: string) => api.call('POST', '/v1/online/user-code', { body: { cardSignature, newUserCode: 'Twice@1' }, idempotencyKey: key });

    const hold = await holdLock();
    let first, second;
    try {
      first = reset('user-code-race-1');
      await lockWaiters(1);
      // Both signatures verify; the second waits for the first's transaction to see whether the challenge is used.
      second = reset('user-code-race-2');
      await lockWaiters(2);
    } finally {
      await hold.release();
    }
    const [a, b] = await Promise.all([first, second]);

    expect(a!.status).toBe(200);
    expect(b!.status).toBe(403);
    expect(b!.body.type).toBe('urn:moica-ca:problem:challenge-invalid');
    expect(await userCodeResets(holderId)).toBe(1);
  });

  it('changes a CRL schedule once: the taken-over change rolls back, the retry’s is the only one audited', async () => {
    const ca = await api.pool.query(`SELECT id FROM certificate_authority WHERE role = 'issuing' LIMIT 1`);
    const caId = ca.rows[0].id;
    const save = () =>
      api.call('PUT', `/v1/crl/authorities/${caId}/schedules/complete`, {
        token: api.tokens.operator,
        body: { cron: '0 2 * * *', cronTimeZone: 'Asia/Taipei', nextUpdateSeconds: 129600 },
        idempotencyKey: 'schedule-takeover',
      });

    // The retry waits for the schedule row that the first request wrote.
    const { a, b } = await takeOver(save);

    expect(a.status).toBe(409);
    expect(a.body.type).toBe('urn:moica-ca:problem:idempotency-claim-lost');
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ kind: 'complete', cron: '0 2 * * *', nextUpdateSeconds: 129600, isDefault: false });
    // Both requests write the same schedule: the time tells the retry's change (the clock moved before it) from the first's.
    const retriedAt = api.clock.now();
    const audit = await api.pool.query(
      `SELECT at FROM audit_log WHERE operation = 'crl.schedule-changed' AND subject_id = $1 AND after->>'kind' = 'complete'`,
      [caId],
    );
    expect(audit.rows).toEqual([{ at: retriedAt }]);
    const schedule = await api.pool.query(`SELECT cron, updated_at FROM crl_schedule WHERE ca_id = $1 AND kind = 'complete'`, [caId]);
    expect(schedule.rows).toEqual([{ cron: '0 2 * * *', updated_at: retriedAt }]);
    await expectReplayed(save, b);
  });

  it('applies a household-registration event once: the taken-over request revokes nothing, the retry revokes the person’s certificates', async () => {
    const { cardNumber, nationalId } = await issueCard(3);
    const report = () =>
      api.call('POST', '/v1/household-events', {
        token: api.tokens.operator,
        body: { kind: 'death', nationalId, eventReference: 'HR-takeover' },
        idempotencyKey: 'household-takeover',
      });

    // The retry waits for the holder row that the first request locked.
    const { a, b } = await takeOver(report);

    expect(a.status).toBe(409);
    expect(a.body.type).toBe('urn:moica-ca:problem:idempotency-claim-lost');
    expect(b.status).toBe(200);
    expect(b.body.revoked).toEqual([expect.objectContaining({ cardNumber, status: 'revoked' })]);
    expect(b.body.revoked[0].certificates).toHaveLength(2);
    // Revoked once, by the retry (at its time), with the reason for a death (RFC 5280 cessationOfOperation).
    const retriedAt = api.clock.now();
    const certificates = await api.pool.query(
      `SELECT c.status, c.revoked_at, c.revocation_reason FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1`,
      [cardNumber],
    );
    expect(certificates.rows).toEqual([
      { status: 'revoked', revoked_at: retriedAt, revocation_reason: 5 },
      { status: 'revoked', revoked_at: retriedAt, revocation_reason: 5 },
    ]);
    const events = await api.pool.query(
      `SELECT count(*)::int AS n FROM certificate_status_event e JOIN certificate c ON c.id = e.certificate_id JOIN card k ON k.id = c.card_id
        WHERE k.card_number = $1 AND e.to_status = 'revoked'`,
      [cardNumber],
    );
    expect(events.rows[0].n).toBe(2);
    const audit = await api.pool.query(`SELECT at FROM audit_log WHERE operation = 'certificate.revoke' AND subject_id = $1`, [cardNumber]);
    expect(audit.rows).toEqual([{ at: retriedAt }]);
    await expectReplayed(report, b);
  });

  it('retries a failed job once: the taken-over request rolls back, the job is rescheduled and audited once', async () => {
    await ensureWorkerSchema(api.pool);
    const added = await api.pool.query(`SELECT (graphile_worker.add_job('ocsp-refresh', '{}'::json, max_attempts := 2)).id::text AS id`);
    const id = added.rows[0].id;
    await api.pool.query(
      `UPDATE graphile_worker._private_jobs SET attempts = 2, last_error = 'signer unavailable', run_at = now() + interval '1 day' WHERE id = $1`,
      [id],
    );
    const retry = () => api.call('POST', `/v1/operator/jobs/${id}/retry`, { token: api.tokens.operator, idempotencyKey: 'job-retry-takeover' });

    // The retry waits for the job row that the first request rescheduled.
    const { a, b } = await takeOver(retry);

    expect(a.status).toBe(409);
    expect(a.body.type).toBe('urn:moica-ca:problem:idempotency-claim-lost');
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ id, task: 'ocsp-refresh', attempts: 0, maxAttempts: 2 });
    const job = await api.pool.query(`SELECT attempts, run_at FROM graphile_worker.jobs WHERE id = $1`, [id]);
    expect(job.rows).toEqual([{ attempts: 0, run_at: new Date(b.body.runAt) }]);
    const audit = await api.pool.query(`SELECT at FROM audit_log WHERE operation = 'job.retried' AND subject_id = $1`, [id]);
    expect(audit.rows).toEqual([{ at: api.clock.now() }]);
    await expectReplayed(retry, b);
  });

  it('starts an e-mail verification once: the taken-over request records no code and sends none, the retry’s code is the only one', async () => {
    const { holderId, cardSignature } = await cardWithSignedChallenge(4, 'add-email-to-certificate');
    const start = () =>
      api.call('POST', '/v1/online/email-in-certificate', { body: { cardSignature, email: 'takeover@example.tw' }, idempotencyKey: 'email-takeover' });

    // This route appends no audit record: the first request waits to insert its code, after using the challenge up;
    // the retry waits on the challenge row.
    const { a, b } = await takeOver(start, 'LOCK TABLE verification_code IN SHARE MODE');

    expect(a.status).toBe(409);
    expect(a.body.type).toBe('urn:moica-ca:problem:idempotency-claim-lost');
    expect(b.status).toBe(202);
    const codes = await api.pool.query(`SELECT id FROM verification_code WHERE holder_id = $1`, [holderId]);
    expect(codes.rows.map((row) => row.id)).toEqual([b.body.verificationId]);
    const audited = await api.pool.query(
      `SELECT after->>'verificationId' AS id FROM audit_log WHERE operation = 'holder.add-email-to-certificate' AND subject_id = $1`,
      [holderId],
    );
    expect(audited.rows.map((row) => row.id)).toEqual([b.body.verificationId]);
    const challenge = await api.pool.query(`SELECT used_at FROM holder_challenge WHERE id = $1`, [cardSignature.challengeId]);
    expect(challenge.rows[0].used_at).not.toBeNull();
    await expectReplayed(start, b);
    // One code sent, the retry's; the replay sends none.
    expect(smtp.received.filter((message) => message.to.includes('takeover@example.tw'))).toHaveLength(1);
  });
});
