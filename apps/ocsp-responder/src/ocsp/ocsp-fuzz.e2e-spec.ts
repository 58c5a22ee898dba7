/**
 * Fuzzing the OCSP endpoints (issue 6): 100,000 random and mutated requests
 * (truncated DER, wrong lengths, flipped octets, huge bodies, bad base64,
 * wrong content types, absurd nonces and CertID counts) through the real
 * HTTP server (Fastify inject, same routes and parser as the process) get a
 * 4xx or a well-formed OCSP response, never a 5xx, and memory stays bounded.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { createOcspServer, KEEP_ALIVE_MS } from './ocsp-http';
import { createResponderFixture, type ResponderFixture } from './testing/responder-fixture';

const TOTAL = 100_000;

/**
 * The live heap after a full collection. RSS is not a leak detector: it moves with the GC's
 * timing and with what earlier suites left in the same jest worker, so the test compares
 * the heap that survives a forced collection at the quarter, half and end marks.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
function liveHeap(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

/** A deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('OCSP fuzz: 100,000 random and mutated requests', () => {
  let f: ResponderFixture;
  let server: FastifyInstance;

  beforeAll(async () => {
    f = await createResponderFixture({ liveSignaturesPerSecond: 500, budgetClock: () => performance.now() });
    await f.store(0x1001n, 'valid', true);
    await f.store(0x1002n, 'revoked', true);
    server = createOcspServer(f.responder, f.metrics, () => f.clock.now, (_request, response) => {
      response.statusCode = 404;
      response.end();
    });
    await server.ready();
  });

  afterAll(() => server?.close());

  it('keeps idle connections open longer than a load balancer does (Keep-Alive: timeout=72)', async () => {
    const address = await server.listen({ port: 0, host: '127.0.0.1' });
    const answer = await fetch(`${address}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: Buffer.from(f.request([0x1001n])),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
    await answer.arrayBuffer();
  });

  it('never answers 5xx, always a 4xx or an OCSP response, and memory stays bounded', async () => {
    const seed = Number(process.env.OCSP_FUZZ_SEED ?? 20261128);
    const random = prng(seed);
    const int = (n: number) => Math.floor(random() * n);
    const valid = [
      f.request([0x1001n]),
      f.request([0x1002n], { nonce: Uint8Array.of(1, 2, 3) }),
      f.request([0x1001n, 0x1002n, 0x77n], { hash: 'sha256' }),
    ];
    const mutate = (der: Uint8Array): Buffer => {
      const copy = Buffer.from(der);
      switch (int(6)) {
        case 0: // truncated
          return copy.subarray(0, int(copy.length));
        case 1: // flipped octets
          for (let i = 0, n = 1 + int(4); i < n; i++) copy[int(copy.length)] ^= 1 << int(8);
          return copy;
        case 2: // a wrong length octet (DER lengths sit at odd offsets of nested headers)
          copy[1 + 2 * int(Math.min(10, copy.length / 2 - 1))] = int(256);
          return copy;
        case 3: // trailing garbage
          return Buffer.concat([copy, randomBytes(1 + int(20))]);
        case 4: // long-form length with too many octets
          return Buffer.concat([Buffer.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff), copy]);
        default: // a random splice
          return Buffer.concat([copy.subarray(0, int(copy.length)), randomBytes(int(30)), copy.subarray(int(copy.length))]);
      }
    };
    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let heapQuarter = 0;
    let heapHalfway = 0;

    for (let i = 0; i < TOTAL; i++) {
      const kind = int(10);
      let response;
      if (kind <= 3) {
        response = await server.inject({ method: 'POST', url: '/ocsp', headers: { 'content-type': 'application/ocsp-request' }, payload: mutate(valid[int(3)]) });
      } else if (kind === 4) {
        response = await server.inject({ method: 'POST', url: '/ocsp', headers: { 'content-type': 'application/ocsp-request' }, payload: randomBytes(int(400)) });
      } else if (kind === 5) {
        const body = mutate(valid[int(3)]).toString('base64');
        const junk = ['%', '%zz', '*', '\u00e9', '/', '//', '..', '%00', '+', ' '][int(10)];
        const at = int(body.length + 1);
        const path = int(2) ? encodeURIComponent(body) : body.slice(0, at) + junk + body.slice(at);
        response = await server.inject({ method: 'GET', url: `/ocsp/${int(2) ? 'test-ca/' : ''}${path}` });
      } else if (kind === 6) {
        const type = ['text/plain', 'application/json', 'application/ocsp-response', 'multipart/form-data; boundary=x', '', 'application/ocsp-request; charset=\u0000'][int(6)];
        response = await server.inject({ method: 'POST', url: '/ocsp', headers: type ? { 'content-type': type } : {}, payload: valid[int(3)] as Buffer });
      } else if (kind === 7) {
        // Absurd nonces (0 or 33+ octets) and more CertIDs than allowed.
        const serials = Array.from({ length: 1 + int(12) }, () => BigInt(1 + int(5000)));
        const nonce = int(2) ? new Uint8Array(0) : randomBytes(33 + int(100));
        response = await server.inject({ method: 'POST', url: '/ocsp/test-ca', headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.from(f.request(serials, { nonce })) });
      } else if (kind === 8 && i % 50 === 0) {
        // A huge body (over the 64 KiB limit).
        response = await server.inject({ method: 'POST', url: '/ocsp', headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.alloc(70_000 + int(200_000), 0x30) });
      } else {
        // Valid requests for random serials (unknown) and known ones, so the real paths run too.
        response = await server.inject({ method: 'POST', url: '/ocsp', headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.from(f.request([int(2) ? 0x1001n : BigInt(1 + int(1_000_000))])) });
      }
      if (response.statusCode >= 500) throw new Error(`seed ${seed}, request ${i}: HTTP ${response.statusCode}`);
      if (response.statusCode === 200) {
        const body = response.rawPayload;
        // An OCSPResponse: SEQUENCE { ENUMERATED responseStatus, ... }; successful (0) or an error status.
        const status = body[body[1] & 0x80 ? 2 + (body[1] & 0x7f) + 2 : 4];
        if (response.headers['content-type'] !== 'application/ocsp-response' || body[0] !== 0x30 || ![0, 1, 3, 6].includes(status)) {
          throw new Error(`seed ${seed}, request ${i}: not an OCSP response: ${body.subarray(0, 16).toString('hex')}`);
        }
        count(`200/${status}`);
      } else {
        if (response.statusCode < 400) throw new Error(`seed ${seed}, request ${i}: HTTP ${response.statusCode}`);
        count(String(response.statusCode));
      }
      if (i % 5000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      if (i === TOTAL / 4) heapQuarter = liveHeap();
      if (i === TOTAL / 2) heapHalfway = liveHeap();
    }
    const heapEnd = liveHeap();
    const summary = Object.fromEntries([...statuses].sort());
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    console.log(`OCSP fuzz (seed ${seed}): ${TOTAL} requests`, summary, `RSS +${mib(rssPeak - rssBefore)}; live heap ${mib(heapQuarter)} at 1/4, ${mib(heapHalfway)} at 1/2, ${mib(heapEnd)} at the end`);
    expect(statuses.get('200/1')).toBeGreaterThan(TOTAL / 4); // malformedRequest is the common answer
    expect(statuses.get('200/0')).toBeGreaterThan(1000); // the valid paths ran
    // Bounded memory: a leak of even 200 bytes per request would add ~10 MiB of live heap over
    // the second 50,000 requests; the caches are bounded and warm by the first quarter.
    expect(heapEnd - heapHalfway).toBeLessThan(8 * 1048576);
    expect(heapHalfway - heapQuarter).toBeLessThan(8 * 1048576);
    // RSS only as a sanity bound (the jest worker carries earlier suites' memory).
    expect(rssPeak - rssBefore).toBeLessThan(1024 * 1048576);
  }, 600_000);
});
