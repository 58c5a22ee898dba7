/**
 * An Idempotency-Key claim taken over by a retry while the first request is
 * only slow, on the real routes that used to commit before their answer was
 * recorded: a key-operation approval and a CRL publish-now. The test holds
 * the audit chain head (audit_chain_head, row-locked by every audit append
 * until COMMIT), so each request waits inside its transaction after its
 * change, and moves the clock past STALE_CLAIM_SECONDS instead of waiting.
 * The taken-over request must roll back: one state change, the retry's.
 */
import type { PoolClient } from 'pg';
import { createStaffWithToken } from '../src/auth/staff-provisioning';
import { STALE_CLAIM_SECONDS } from '../src/idempotency/idempotency-claim';
import { CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';

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
});
