/**
 * An Idempotency-Key claim taken over by a retry while its first request is
 * only slow, not dead (an HSM or a lock wait beyond STALE_CLAIM_SECONDS), on
 * a real PostgreSQL. The operation below changes state and records its
 * answer in one transaction, as the state-changing services do; the test
 * holds each attempt inside that transaction until it says how the attempt
 * ends, and moves the clock instead of waiting a minute.
 */
import { randomBytes } from 'node:crypto';
import { Controller, Global, Headers, Inject, Module, Post, Req } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Clock, createHttpApp, httpLoggerParams, openDatabase } from '@moica/platform';
import { createTestDatabase } from '../../../../test/support/database';
import { TestClock } from '../../../../test/support/ca-api-harness';
import { buildOpenApiDocument } from '../openapi';
import { APP_CONFIG } from '../tokens';
import { STALE_CLAIM_SECONDS } from './idempotency-claim';
import { Idempotent, IdempotencyInterceptor, IdempotentRequest } from './idempotency.interceptor';
import { IdempotencyRepository } from './idempotency.repository';

type Outcome = 'commit' | 'fail';

/** One attempt the test holds inside its transaction: `entered` once it has changed state, `end` to finish it. */
class HeldAttempt {
  entered!: () => void;
  readonly inside = new Promise<void>((resolve) => (this.entered = resolve));
  end!: (outcome: Outcome) => void;
  readonly outcome = new Promise<Outcome>((resolve) => (this.end = resolve));
}

const held = new Map<string, HeldAttempt>();

/** A state change with no guard of its own (like a key-operation approval): only the claim keeps it single. */
@Controller('v1/test-operations')
class OperationController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly idempotency: IdempotencyRepository,
    private readonly clock: Clock,
  ) {}

  @Post()
  @Idempotent()
  run(@Req() request: IdempotentRequest, @Headers('x-attempt') attempt: string, @Headers('x-commit-fails') commitFails?: string) {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO test_operation_effect (idempotency_key, attempt) VALUES ($1, $2)`, [request.idempotency!.key, attempt]);
      // Two equal values under a deferred UNIQUE: every statement succeeds, the COMMIT fails.
      if (commitFails) await manager.query(`INSERT INTO test_commit_check (value) VALUES ($1), ($1)`, [attempt]);
      const hold = held.get(attempt);
      hold?.entered();
      if ((await hold?.outcome) === 'fail') throw new Error('the HSM went away');
      const body = { attempt };
      await this.idempotency.completeInTransaction(manager, request.idempotency!, 201, body, this.clock.now());
      return body;
    });
  }
}

describe('Idempotency-Key claim taken over by a retry (ca-api, real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let app: NestFastifyApplication;
  let dataSource: DataSource;
  const clock = new TestClock(new Date('2026-11-28T12:00:00Z'));

  beforeAll(async () => {
    db = await createTestDatabase();
    @Global()
    @Module({
      providers: [
        { provide: DataSource, useFactory: () => openDatabase(db.url, 'idempotency-test') },
        { provide: Clock, useValue: clock },
        { provide: APP_CONFIG, useValue: { piiHmacKey: randomBytes(32) } },
      ],
      exports: [DataSource, Clock, APP_CONFIG],
    })
    class TestAppModule {}
    @Module({
      imports: [LoggerModule.forRoot(httpLoggerParams('test', 'silent')), TestAppModule],
      controllers: [OperationController],
      providers: [IdempotencyRepository, IdempotencyInterceptor],
    })
    class TestRootModule {}
    app = await createHttpApp(TestRootModule);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    dataSource = app.get(DataSource);
    await dataSource.query(`CREATE TABLE test_operation_effect (idempotency_key text NOT NULL, attempt text NOT NULL)`);
    await dataSource.query(`CREATE TABLE test_commit_check (value text UNIQUE DEFERRABLE INITIALLY DEFERRED)`);
  });

  afterAll(async () => {
    await app?.close();
    if (dataSource?.isInitialized) await dataSource.destroy(); // the test module's own DataSource: Nest does not close a factory's value
    await db?.drop();
  });

  /** The same request each time (same key, same body): a client's retry, named by x-attempt. */
  const send = (key: string, attempt: string, headers: Record<string, string> = {}) =>
    app.getHttpAdapter().getInstance().inject({ method: 'POST', url: '/v1/test-operations', headers: { 'idempotency-key': key, 'x-attempt': attempt, ...headers } });

  /** Sends an attempt that stops inside its transaction, after its change, until `end` is called. */
  async function start(key: string, attempt: string) {
    const hold = new HeldAttempt();
    held.set(attempt, hold);
    const response = send(key, attempt);
    await hold.inside;
    return { response, end: hold.end };
  }

  const effects = async (key: string) =>
    ((await dataSource.query(`SELECT attempt FROM test_operation_effect WHERE idempotency_key = $1`, [key])) as Array<{ attempt: string }>).map((row) => row.attempt);

  /** A still runs when the client retries as B, after the claim went stale: B takes the claim over. */
  async function takenOver(key: string) {
    const a = await start(key, `A-${key}`);
    clock.advance((STALE_CLAIM_SECONDS + 1) * 1000);
    const b = await start(key, `B-${key}`);
    return { a, b };
  }

  it.each([
    ['after the retry committed', ['B', 'A']],
    ['while the retry still runs', ['A', 'B']],
  ])('lets only the retry commit when the taken-over request finishes %s', async (_, order) => {
    const key = `takeover-${order.join('')}`;
    const attempts = await takenOver(key);
    const answers: Record<string, Awaited<ReturnType<typeof send>>> = {};
    for (const name of order) {
      const attempt = name === 'A' ? attempts.a : attempts.b;
      attempt.end('commit');
      answers[name] = await attempt.response;
    }

    expect(answers.B.statusCode).toBe(201);
    expect(answers.B.json()).toEqual({ attempt: `B-${key}` });
    expect(answers.A.statusCode).toBe(409);
    expect(answers.A.headers['content-type']).toContain('application/problem+json');
    expect(answers.A.json()).toMatchObject({
      type: 'urn:moica-ca:problem:idempotency-claim-lost',
      detail: expect.stringContaining('its changes were rolled back'),
    });
    // A's change was rolled back with its failed completion: the operation happened once.
    expect(await effects(key)).toEqual([`B-${key}`]);
    const replay = await send(key, `D-${key}`);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual({ attempt: `B-${key}` });
  });

  it('keeps the retry’s claim when the taken-over request fails, so a third attempt waits instead of running', async () => {
    const key = 'takeover-fail';
    const { a, b } = await takenOver(key);
    a.end('fail');
    expect((await a.response).statusCode).toBe(500);
    const [claim] = await dataSource.query(`SELECT completed_at FROM idempotency_key WHERE key = $1`, [key]);
    expect(claim).toEqual({ completed_at: null });

    const c = await send(key, `C-${key}`);
    expect(c.statusCode).toBe(409);
    expect(c.json().type).toBe('urn:moica-ca:problem:idempotency-request-in-progress');

    b.end('commit');
    expect((await b.response).statusCode).toBe(201);
    expect(await effects(key)).toEqual([`B-${key}`]);
    const replay = await send(key, `D-${key}`);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual({ attempt: `B-${key}` });
  });

  it('frees the claim when the transaction that completed it fails at COMMIT, so the retry runs at once', async () => {
    const key = 'commit-fails';
    const failed = await send(key, `A-${key}`, { 'x-commit-fails': 'yes' });
    expect(failed.statusCode).toBe(500);
    // The completion was written (ticket.completed) but never committed: nothing of it may linger.
    expect(await dataSource.query(`SELECT key FROM idempotency_key WHERE key = $1`, [key])).toEqual([]);

    const retry = await send(key, `B-${key}`);
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toEqual({ attempt: `B-${key}` });
    expect(await effects(key)).toEqual([`B-${key}`]);
  });

  it('documents the 409 in the OpenAPI description of a route that does not list 409 itself', () => {
    const operation = buildOpenApiDocument(app).paths['/v1/test-operations'].post!;
    expect(operation.responses['409']).toMatchObject({ description: expect.stringContaining('idempotency-claim-lost') });
  });
});
