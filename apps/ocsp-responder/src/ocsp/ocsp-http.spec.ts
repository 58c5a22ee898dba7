/**
 * The OCSP routes' contract with Fastify: an answer is written on the
 * hijacked raw response and the handler hands Fastify nothing to wait for
 * or send. A handler that returned the reply (a thenable) made Fastify wait
 * on it: `reply.then` attaches end-of-stream listeners to the response and
 * the socket, on every request (docs/benchmarks.md "Session 7").
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { OcspMetrics } from './ocsp-metrics';
import { registerOcspRoutes, type OcspAnswering } from './ocsp-http';
import type { OcspAnswer } from './ocsp-responder';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const GOOD: OcspAnswer = {
  der: Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x00),
  result: 'good',
  cacheable: {
    der: Buffer.of(0x30, 0x03, 0x0a, 0x01, 0x00),
    thisUpdate: NOW - 3_600_000,
    nextUpdate: NOW + 3_600_000,
    status: { code: 0, revokedAt: 0, reason: -1 },
    etag: '"fixed"',
  },
};

describe('OCSP routes on Fastify', () => {
  let app: FastifyInstance;
  let logged: Array<{ level: number; msg?: string; err?: { code?: string } }>;
  let asynchronous = false;

  beforeEach(async () => {
    logged = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    app = Fastify({ logger: { level: 'info', stream } });
    const answering: OcspAnswering = {
      answer: () => (asynchronous ? Promise.resolve(GOOD) : GOOD),
      servedIssuers: [],
    };
    registerOcspRoutes(app, answering, new OcspMetrics(), () => new Date(NOW));
    await app.ready();
  });

  afterEach(() => app.close());

  const warnings = () => logged.filter((line) => line.level >= 40);

  /** Fastify's own tracing of route handlers: `async` is set when it waits on what a handler returned. */
  const handlerRuns: Array<{ async?: boolean }> = [];
  const tracing = tracingChannel('fastify.request.handler');
  const subscriber = {
    start() {},
    end(store: unknown) {
      handlerRuns.push(store as { async?: boolean });
    },
    asyncStart() {},
    asyncEnd() {},
    error() {},
  };
  beforeAll(() => tracing.subscribe(subscriber));
  afterAll(() => tracing.unsubscribe(subscriber));
  beforeEach(() => {
    handlerRuns.length = 0;
  });

  it.each([
    ['a synchronous answer', false],
    ['an answer from a promise', true],
  ])('sends %s once, with its RFC 5019 headers, and nothing else is sent or logged', async (_name, isAsync) => {
    asynchronous = isAsync;
    for (let i = 0; i < 3; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/ocsp',
        headers: { 'content-type': 'application/ocsp-request' },
        payload: Buffer.of(0x30, 0x00),
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/ocsp-response');
      expect(response.headers['cache-control']).toBe('max-age=3600, public, no-transform, must-revalidate');
      expect(response.headers.etag).toBe('"fixed"');
      expect(response.rawPayload).toEqual(Buffer.from(GOOD.der));
    }
    expect(warnings()).toEqual([]);
    // A cache hit is answered within the handler: nothing for Fastify to wait on.
    expect(handlerRuns.map((run) => run.async === true)).toEqual([isAsync, isAsync, isAsync]);
  });

  it('answers malformedRequest to a GET path that is not base64, with nothing logged', async () => {
    asynchronous = false;
    const response = await app.inject({ method: 'GET', url: '/ocsp/not*base64' });
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload).toEqual(Buffer.of(0x30, 0x03, 0x0a, 0x01, 0x01));
    expect(response.headers['cache-control']).toBe('no-store');
    expect(warnings()).toEqual([]);
    expect(handlerRuns.map((run) => run.async === true)).toEqual([false]);
  });
});
