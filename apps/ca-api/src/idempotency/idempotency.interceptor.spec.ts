import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, throwError } from 'rxjs';
import { SystemClock, type AppConfig } from '@moica/platform';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import type { IdempotencyRepository } from './idempotency.repository';

/** Only the key the request fingerprints are keyed with. */
const config = { piiHmacKey: Buffer.alloc(32, 7) } as AppConfig;

/**
 * The claim of a request that failed because the database went away (issue
 * 11): the DELETE that frees it fails too, and is retried in the background
 * so the client's retry with the same key is not refused with 409 for a
 * minute. The repository stands in for PostgreSQL going down and coming back;
 * test/scale-out.e2e-spec.ts and bench/scale-out drive the real thing.
 */
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function repository(releaseFailures: number) {
  const calls = { release: 0, released: false };
  const fake = {
    tryClaim: async () => 'claim-token-1',
    find: async () => undefined,
    takeOver: async () => undefined,
    complete: async () => true,
    release: async () => {
      calls.release++;
      if (calls.release <= releaseFailures) throw refused();
      calls.released = true;
    },
  };
  return { fake: fake as unknown as IdempotencyRepository, calls };
}

function context(): ExecutionContext {
  const request = { headers: { 'idempotency-key': 'key-1' }, method: 'POST', url: '/v1/applications', body: {}, ip: '127.0.0.1' };
  const reply = { status: () => reply, header: () => reply, statusCode: 201 };
  return { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ExecutionContext;
}

describe('IdempotencyInterceptor when the database is unreachable', () => {
  it('rethrows the database error and frees the claim once the database answers again', async () => {
    const { fake, calls } = repository(2);
    const interceptor = new IdempotencyInterceptor(fake, new SystemClock(), config);
    const failing: CallHandler = { handle: () => throwError(() => refused()) };
    await expect(lastValueFrom(interceptor.intercept(context(), failing))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(calls.released).toBe(false);
    for (let i = 0; i < 100 && !calls.released; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls.released).toBe(true);
    expect(calls.release).toBe(3);
  });

  it('still fails loudly when freeing the claim fails for another reason', async () => {
    const fake = { ...repository(0).fake, release: async () => Promise.reject(Object.assign(new Error('permission denied'), { code: '42501' })) };
    const interceptor = new IdempotencyInterceptor(fake as unknown as IdempotencyRepository, new SystemClock(), config);
    const failing: CallHandler = { handle: () => throwError(() => new TypeError('a bug')) };
    await expect(lastValueFrom(interceptor.intercept(context(), failing))).rejects.toMatchObject({ code: '42501' });
  });
});
