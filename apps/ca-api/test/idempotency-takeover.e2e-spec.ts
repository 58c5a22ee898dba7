/**
 * An Idempotency-Key claim taken over by a retry while the first request is
 * only slow, on the real routes that used to commit before their answer was
 * recorded: a key-operation approval and a CRL publish-now. The test holds
 * the audit chain head (audit_chain_head, row-locked by every audit append
 * until COMMIT), so each request waits inside its transaction after its
 * change, and moves the clock past STALE_CLAIM_SECONDS instead of waiting.
 * The taken-over request must roll back: one state change, the retry's.
 * On an online route the card's one-time challenge is used up in that
 * transaction too, so the retry can still present it.
 */
import type { PoolClient } from 'pg';
import { createStaffWithToken } from '../src/auth/staff-provisioning';
import { STALE_CLAIM_SECONDS } from '../src/idempotency/idempotency-claim';
import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';

describe('Idempotency-Key take-over on routes that commit in their own transaction (ca-api, real PostgreSQL)', () => {
  let api: CaApiHarness;
  let secondOperator: string;

  beforeAll(async () => {
    api = await startCaApi();
    secondOperator = (await createStaffWithToken(api.pool, { name: 'Operator Lee', role: 'operator', officeId: null }, api.clock.now())).token;
  }, 60_000);
  afterAll(() => api?.close());

  /** Holds the audit chain head: every request that appends an audit record waits, inside its transaction. */
  async function holdAuditChain(): Promise<{ release(): Promise<void> }> {
    const holder: PoolClient = await api.pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM audit_chain_head FOR UPDATE');
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
   * waits too; then both go on.
   */
  async function takeOver(send: () => Promise<{ status: number; body: any; headers: Headers }>) {
    const hold = await holdAuditChain();
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
    const replay = await approve();
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(b.body);
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
    const replay = await publishNow();
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(b.body);
  });

  /** A card issued at the counter, and its signature over a fresh user-code-reset challenge. */
  async function cardWithSignedChallenge(n: number): Promise<{ cardNumber: string; holderId: string; cardSignature: { challengeId: string; signature: string } }> {
    const cardNumber = `TP88${String(n).padStart(11, '0')}`;
    const card = await TestCard.create(cardNumber);
    const issued = await api.call('POST', '/v1/applications', {
      token: api.tokens.clerk,
      body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
        applicant: { name: '周接手', nationalId: validNationalId(880 + n), dateOfBirth: '1990-01-01', mobile: '0911111111', email: `t${n}@example.tw` },
      }),
    });
    expect(issued.status).toBe(201);
    const holder = await api.pool.query(`SELECT holder_id FROM card WHERE card_number = $1`, [cardNumber]);
    const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber, purpose: 'user-code-reset' } });
    expect(challenge.status).toBe(201);
    const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
    return { cardNumber, holderId: holder.rows[0].holder_id, cardSignature: { challengeId: challenge.body.challengeId, signature } };
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
    const replay = await reset();
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(b.body);
  });

  it('lets one of two concurrent requests with one card challenge through; the other, waiting on it, is refused challenge-invalid', async () => {
    const { holderId, cardSignature } = await cardWithSignedChallenge(2);
    const reset = (key: string) => api.call('POST', '/v1/online/user-code', { body: { cardSignature, newUserCode: 'Twice@1' }, idempotencyKey: key });

    const hold = await holdAuditChain();
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
});
