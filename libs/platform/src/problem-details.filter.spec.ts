import { Client } from 'pg';
import { freePort } from '../../../tools/embedded-postgres';
import { isDatabaseUnavailable, isTransactionConflict, toProblem } from './problem-details.filter';

describe('isDatabaseUnavailable (503 + Retry-After instead of 500)', () => {
  it.each([
    ['a refused TCP connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), true],
    ['admin shutdown (57P01) from a restart', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), true],
    ['the server starting up (57P03)', Object.assign(new Error('the database system is starting up'), { code: '57P03' }), true],
    ['a connection failure class 08', Object.assign(new Error('connection failure'), { code: '08006' }), true],
    ['a write on a standby (25006)', Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }), true],
    ['pg: terminated unexpectedly', new Error('Connection terminated unexpectedly'), true],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect'), true],
    ['TypeORM QueryFailedError wrapping 57P01', Object.assign(new Error('query failed'), { driverError: { code: '57P01' } }), true],
    ['a cause chain', new Error('issuing', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }), true],
    ['a unique violation (23505)', Object.assign(new Error('duplicate key'), { code: '23505' }), false],
    ['a syntax error (42601)', Object.assign(new Error('syntax error'), { code: '42601' }), false],
    ['a plain bug', new TypeError('undefined is not a function'), false],
    ['not an error', 'text', false],
  ])('%s -> %s', (_name, error, expected) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });

  it('maps a real refused connection to 503 problem details with Retry-After', async () => {
    const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/none`, connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeDefined();
    const problem = toProblem(error);
    expect(problem).toMatchObject({ status: 503, type: 'urn:moica-ca:problem:database-unavailable', retryAfterSeconds: 2 });
  });
});

describe('isTransactionConflict (503 + Retry-After: PostgreSQL rolled the transaction back)', () => {
  it.each([
    ['a serialization failure (40001)', Object.assign(new Error('could not serialize access'), { code: '40001' }), true],
    ['TypeORM QueryFailedError wrapping a deadlock (40P01)', Object.assign(new Error('query failed'), { driverError: { code: '40P01' } }), true],
    ['a unique violation (23505)', Object.assign(new Error('duplicate key'), { code: '23505' }), false],
    ['a plain bug', new TypeError('undefined is not a function'), false],
  ])('%s -> %s', (_name, error, expected) => {
    expect(isTransactionConflict(error)).toBe(expected);
  });

  it('maps a real deadlock to 503 problem details with Retry-After, not a 500', async () => {
    const url = process.env.MOICA_TEST_ADMIN_URL;
    if (!url) throw new Error('MOICA_TEST_ADMIN_URL is not set: run the tests through `npm test`');
    const [a, b] = [new Client({ connectionString: url }), new Client({ connectionString: url })];
    await Promise.all([a.connect(), b.connect()]);
    try {
      const key = Math.floor(Math.random() * 1e9);
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query('SELECT pg_advisory_xact_lock($1)', [key]);
      await b.query('SELECT pg_advisory_xact_lock($1)', [key + 1]);
      // Each waits for the other: PostgreSQL aborts one of them (deadlock_timeout) with 40P01.
      const outcomes = await Promise.allSettled([
        a.query('SELECT pg_advisory_xact_lock($1)', [key + 1]).finally(() => a.query('ROLLBACK')),
        b.query('SELECT pg_advisory_xact_lock($1)', [key]).finally(() => b.query('ROLLBACK')),
      ]);
      const failures = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      expect(failures).toHaveLength(1);
      expect(toProblem(failures[0].reason)).toMatchObject({ status: 503, type: 'urn:moica-ca:problem:transaction-conflict', retryAfterSeconds: 1 });
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});
