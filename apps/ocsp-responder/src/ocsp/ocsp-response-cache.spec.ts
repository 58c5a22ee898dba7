import { createHash } from 'node:crypto';
import { OCSP_TRY_LATER, OcspResponseBuilder, encodeCertId, encodeSingleResponse, ocspCertsFieldStart } from '@moica/pki';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createTestPki, type TestPki } from '../../../../libs/pki/src/revocation/testing/test-pki';
import { OcspResponseCache, type CachedResponse, type CachedStatus } from './ocsp-response-cache';

const GOOD: CachedStatus = { code: 0, revokedAt: 0, reason: -1 };

/** A response whose bytes say which one it is (`tag` repeated), `size` octets. */
function response(tag: number, options: { size?: number; thisUpdate?: number; nextUpdate?: number; status?: CachedStatus } = {}): CachedResponse {
  const der = Buffer.alloc(options.size ?? 100);
  der.writeUInt32BE(tag >>> 0, 0);
  der.fill(tag & 0xff, 4);
  return { der, thisUpdate: options.thisUpdate ?? 0, nextUpdate: options.nextUpdate ?? 10_000, status: options.status ?? GOOD };
}

/** The tag of a returned response, or undefined. */
function tagOf(entry: CachedResponse | undefined): number | undefined {
  return entry?.der.readUInt32BE(0);
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('OcspResponseCache', () => {
  it('never returns an entry at or after its nextUpdate (minus a margin)', () => {
    const cache = new OcspResponseCache(1 << 20);
    cache.set('ca', 'sha1', '01', response(1));
    expect(tagOf(cache.get('ca', 'sha1', '01', 9_999))).toBe(1);
    expect(cache.get('ca', 'sha1', '01', 10_000)).toBeUndefined();
    expect(cache.get('ca', 'sha1', '01', 9_000, 1_000)).toBeUndefined();
    expect(tagOf(cache.get('ca', 'sha1', '01', 8_999, 1_000))).toBe(1);
    expect(cache.get('ca', 'sha256', '01', 0)).toBeUndefined();
    expect(cache.get('other', 'sha1', '01', 0)).toBeUndefined();
  });

  it('returns the bytes, times and status it was given', () => {
    const cache = new OcspResponseCache(1 << 20);
    const revoked: CachedStatus = { code: 1, revokedAt: Date.parse('2026-02-10T08:30:00.123Z'), reason: 1 };
    const stored = response(7, { size: 1306, thisUpdate: 1_700_000_000_123, nextUpdate: 1_700_086_400_123, status: revoked });
    cache.set('ca', 'sha1', '5a17c0ffee01', stored);
    cache.set('ca', 'sha1', '5a17c0ffee02', response(8, { status: { code: 2, revokedAt: 0, reason: -1 } }));
    const entry = cache.get('ca', 'sha1', '5a17c0ffee01', 0)!;
    expect(entry.der.equals(stored.der)).toBe(true);
    expect(entry.der).not.toBe(stored.der); // a copy: the caller's buffer may be reused
    expect([entry.thisUpdate, entry.nextUpdate]).toEqual([1_700_000_000_123, 1_700_086_400_123]);
    expect(entry.status).toEqual(revoked);
    expect(cache.get('ca', 'sha1', '5a17c0ffee02', 0)!.status).toEqual({ code: 2, revokedAt: 0, reason: -1 });
  });

  it('gives the strong ETag of the bytes (RFC 5019 §6.2), also for a view taken before a replacement', () => {
    const cache = new OcspResponseCache(1 << 20);
    const first = response(1, { thisUpdate: 1 });
    cache.set('ca', 'sha1', '01', first);
    const before = cache.get('ca', 'sha1', '01', 0)!;
    const etag = `"${createHash('sha1').update(first.der).digest('base64url')}"`;
    expect(before.etag).toBe(etag);
    expect(cache.get('ca', 'sha1', '01', 0)!.etag).toBe(etag); // from the stored digest
    const second = response(2, { thisUpdate: 2 });
    cache.set('ca', 'sha1', '01', second);
    expect(before.etag).toBe(etag);
    expect(tagOf(before)).toBe(1);
    expect(cache.get('ca', 'sha1', '01', 0)!.etag).toBe(`"${createHash('sha1').update(second.der).digest('base64url')}"`);
  });

  it.each([
    ['a leading zero octet', '0001', ['01', '1', '001', '000001']],
    ['one hex digit', '1', ['01', '10', '0001']],
    ['20 octets', '7f'.repeat(20), ['7f'.repeat(19), '7f'.repeat(21), `00${'7f'.repeat(20)}`]],
    ['32 octets (the longest the request parser accepts)', 'ab'.repeat(32), ['ab'.repeat(31), `ab${'ab'.repeat(30)}ac`]],
  ])('keys a serial with %s by its exact octets and length', (_label, serial, others) => {
    const cache = new OcspResponseCache(1 << 20);
    cache.set('ca', 'sha1', serial, response(1));
    others.forEach((other, i) => cache.set('ca', 'sha1', other, response(10 + i)));
    expect(tagOf(cache.get('ca', 'sha1', serial, 0))).toBe(1);
    others.forEach((other, i) => expect(tagOf(cache.get('ca', 'sha1', other, 0))).toBe(10 + i));
    expect(cache.size).toBe(1 + others.length);
  });

  it.each([
    ['longer than 32 octets', 'ab'.repeat(33)],
    ['not hex', '12g4'],
    ['empty', ''],
  ])('does not cache a serial %s (it is answered without the cache)', (_label, serial) => {
    const cache = new OcspResponseCache(1 << 20);
    cache.set('ca', 'sha1', serial, response(1));
    expect(cache.get('ca', 'sha1', serial, 0)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.delete('ca', serial);
  });

  it('keeps the same serial apart under two CAs and two hash algorithms, and deletes both algorithms of one CA', () => {
    const cache = new OcspResponseCache(1 << 20);
    cache.set('ca-1', 'sha1', '1001', response(1));
    cache.set('ca-1', 'sha256', '1001', response(2));
    cache.set('ca-2', 'sha1', '1001', response(3));
    cache.set('ca-2', 'sha256', '1001', response(4));
    expect([
      tagOf(cache.get('ca-1', 'sha1', '1001', 0)),
      tagOf(cache.get('ca-1', 'sha256', '1001', 0)),
      tagOf(cache.get('ca-2', 'sha1', '1001', 0)),
      tagOf(cache.get('ca-2', 'sha256', '1001', 0)),
    ]).toEqual([1, 2, 3, 4]);
    cache.delete('ca-1', '1001');
    expect(cache.get('ca-1', 'sha1', '1001', 0)).toBeUndefined();
    expect(cache.get('ca-1', 'sha256', '1001', 0)).toBeUndefined();
    expect(tagOf(cache.get('ca-2', 'sha1', '1001', 0))).toBe(3);
    expect(tagOf(cache.get('ca-2', 'sha256', '1001', 0))).toBe(4);
    expect(cache.size).toBe(2);
    cache.delete('ca-1', '1001'); // twice: nothing left to delete
    cache.delete('ca-3', '1001'); // a CA it never saw
    expect(cache.size).toBe(2);
  });

  it('keeps the newer response unless forced', () => {
    const cache = new OcspResponseCache(1 << 20);
    cache.set('ca', 'sha1', '01', response(1, { thisUpdate: 100 }));
    cache.set('ca', 'sha1', '01', response(2, { thisUpdate: 50 })); // older: ignored
    expect(tagOf(cache.get('ca', 'sha1', '01', 0))).toBe(1);
    cache.set('ca', 'sha1', '01', response(3, { thisUpdate: 100 })); // same age: replaces
    expect(tagOf(cache.get('ca', 'sha1', '01', 0))).toBe(3);
    cache.set('ca', 'sha1', '01', response(4, { thisUpdate: 200 })); // newer
    expect(tagOf(cache.get('ca', 'sha1', '01', 0))).toBe(4);
    cache.set('ca', 'sha1', '01', response(5, { thisUpdate: 10 }), true); // forced (a live signature after a status change)
    expect(tagOf(cache.get('ca', 'sha1', '01', 0))).toBe(5);
    expect(cache.size).toBe(1);
  });

  it('finds keys past collisions and tombstones', () => {
    // Keys that share a home slot in the initial table (128 slots).
    const cache = new OcspResponseCache(1 << 20);
    const home = (serial: string) => {
      const internals = cache as unknown as { parseKey(hex: string): number; hashKey(table: number, nibbles: number): number };
      return internals.hashKey(0, internals.parseKey(serial)) & 127;
    };
    const colliding: string[] = [];
    for (let i = 1; colliding.length < 4; i++) {
      const serial = i.toString(16).padStart(4, '0');
      if (home(serial) === home('0001') || serial === '0001') colliding.push(serial);
    }
    colliding.forEach((serial, i) => cache.set('ca', 'sha1', serial, response(i)));
    colliding.forEach((serial, i) => expect(tagOf(cache.get('ca', 'sha1', serial, 0))).toBe(i));
    cache.delete('ca', colliding[1]);
    expect(cache.get('ca', 'sha1', colliding[1], 0)).toBeUndefined();
    expect(tagOf(cache.get('ca', 'sha1', colliding[3], 0))).toBe(3); // past the tombstone
    cache.set('ca', 'sha1', colliding[3], response(33, { thisUpdate: 1 }));
    expect(tagOf(cache.get('ca', 'sha1', colliding[3], 0))).toBe(33);
    cache.set('ca', 'sha1', colliding[1], response(11));
    expect(tagOf(cache.get('ca', 'sha1', colliding[1], 0))).toBe(11);
    expect(cache.size).toBe(4);
  });

  it('grows and rehashes through 200,000 entries, keeping every one', () => {
    const cache = new OcspResponseCache(1 << 30);
    const n = 200_000;
    for (let i = 0; i < n; i++) cache.set(i % 2 ? 'ca-1' : 'ca-2', i % 3 ? 'sha1' : 'sha256', (i * 2654435761).toString(16), response(i, { size: 40 }));
    expect(cache.size).toBe(n);
    for (let i = 0; i < n; i++) {
      if (tagOf(cache.get(i % 2 ? 'ca-1' : 'ca-2', i % 3 ? 'sha1' : 'sha256', (i * 2654435761).toString(16), 0)) !== i) throw new Error(`entry ${i} lost`);
    }
    // Delete half, add as many new: tombstones are reused or rehashed away, the rest stays.
    for (let i = 0; i < n; i += 2) cache.delete('ca-2', (i * 2654435761).toString(16));
    for (let i = 0; i < n / 2; i++) cache.set('ca-3', 'sha1', i.toString(16), response(n + i, { size: 40 }));
    expect(cache.size).toBe(n);
    expect(cache.get('ca-2', 'sha1', (2 * 2654435761).toString(16), 0)).toBeUndefined();
    expect(tagOf(cache.get('ca-1', 'sha1', (1 * 2654435761).toString(16), 0))).toBe(1);
    expect(tagOf(cache.get('ca-3', 'sha1', (n / 2 - 1).toString(16), 0))).toBe(n + n / 2 - 1);
  });

  it('agrees with a Map over 50,000 random sets, forced sets, deletes and gets', () => {
    const cache = new OcspResponseCache(1 << 30);
    const model = new Map<string, { tag: number; thisUpdate: number }>();
    const next = random(6);
    const cas = ['ca-1', 'ca-2'];
    const algorithms = ['sha1', 'sha256'] as const;
    for (let step = 0; step < 50_000; step++) {
      const ca = cas[Math.floor(next() * 2)];
      const algorithm = algorithms[Math.floor(next() * 2)];
      const serial = Math.floor(next() * 2000).toString(16).padStart(2 + 2 * Math.floor(next() * 2), '0');
      const key = `${ca}/${algorithm}/${serial}`;
      const operation = next();
      if (operation < 0.45) {
        const thisUpdate = Math.floor(next() * 100);
        const force = next() < 0.2;
        cache.set(ca, algorithm, serial, response(step, { thisUpdate }), force);
        const old = model.get(key);
        if (force || !old || old.thisUpdate <= thisUpdate) model.set(key, { tag: step, thisUpdate });
      } else if (operation < 0.55) {
        cache.delete(ca, serial);
        for (const a of algorithms) model.delete(`${ca}/${a}/${serial}`);
      } else {
        const found = cache.get(ca, algorithm, serial, 0);
        if (tagOf(found) !== model.get(key)?.tag) throw new Error(`step ${step}: ${key} is ${tagOf(found)}, expected ${model.get(key)?.tag}`);
        if (found && found.thisUpdate !== model.get(key)!.thisUpdate) throw new Error(`step ${step}: ${key} thisUpdate`);
      }
    }
    expect(cache.size).toBe(model.size);
  });

  it('stays within its byte budget, dropping the oldest insertions first', () => {
    const budget = 100 * 1200;
    const cache = new OcspResponseCache(budget);
    for (let i = 0; i < 1000; i++) {
      cache.set('ca', 'sha1', i.toString(16), response(i, { size: 1000 }));
      expect(cache.byteSize).toBeLessThanOrEqual(budget);
    }
    const present = Array.from({ length: 1000 }, (_, i) => cache.get('ca', 'sha1', i.toString(16), 0) !== undefined);
    expect(present[999]).toBe(true);
    expect(present[0]).toBe(false);
    // FIFO: what is left is a run of the newest insertions, and size counts exactly those.
    const oldestKept = present.indexOf(true);
    expect(present.slice(oldestKept).every(Boolean)).toBe(true);
    expect(cache.size).toBe(1000 - oldestKept);
    // Honest accounting: at least the bytes of the responses kept, never more than the budget.
    expect(cache.byteSize).toBeGreaterThanOrEqual(cache.size * 1000);
  });

  it('keeps a returned response intact after its slab is evicted (the socket may still be sending it)', () => {
    const cache = new OcspResponseCache(64 * 1024);
    cache.set('ca', 'sha1', '01', response(1, { size: 1000 }));
    const held = cache.get('ca', 'sha1', '01', 0)!;
    const copy = Buffer.from(held.der);
    for (let i = 2; i < 500; i++) cache.set('ca', 'sha1', i.toString(16), response(i, { size: 1000 }));
    expect(cache.get('ca', 'sha1', '01', 0)).toBeUndefined();
    expect(held.der.equals(copy)).toBe(true);
  });

  it('keeps an entry re-inserted after its first copy, when the slab of the first copy goes', () => {
    const cache = new OcspResponseCache(64 * 1024); // 4 KiB slabs
    cache.set('ca', 'sha1', '01', response(1, { size: 1000, thisUpdate: 1 }));
    cache.set('ca', 'sha1', '01', response(2, { size: 1000, thisUpdate: 2 }));
    for (let i = 2; i < 200; i++) {
      cache.set('ca', 'sha1', i.toString(16), response(i + 100, { size: 1000 }));
      if (i % 3 === 0) cache.set('ca', 'sha1', '01', response(1000 + i, { size: 1000, thisUpdate: 2 + i })); // keeps moving to the newest slab
    }
    expect(tagOf(cache.get('ca', 'sha1', '01', 0))).toBe(1198);
    expect(cache.get('ca', 'sha1', '2', 0)).toBeUndefined();
  });

  it('takes a response larger than a slab', () => {
    const cache = new OcspResponseCache(1 << 20); // 64 KiB slabs
    cache.set('ca', 'sha1', '01', response(1, { size: 100_000 }));
    expect(cache.get('ca', 'sha1', '01', 0)!.der.length).toBe(100_000);
    cache.set('ca', 'sha1', '02', response(2));
    expect(tagOf(cache.get('ca', 'sha1', '02', 0))).toBe(2);
  });

  it('forgets everything on clear, and works again after', () => {
    const cache = new OcspResponseCache(1 << 20);
    for (let i = 0; i < 500; i++) cache.set('ca', 'sha1', i.toString(16), response(i));
    const full = cache.byteSize;
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.byteSize).toBeLessThan(full);
    expect(cache.get('ca', 'sha1', '1', 0)).toBeUndefined();
    cache.set('ca', 'sha1', '1', response(9));
    expect(tagOf(cache.get('ca', 'sha1', '1', 0))).toBe(9);
    expect(cache.size).toBe(1);
    expect(cache.maxBytesValue).toBe(1 << 20);
  });
});

describe('OcspResponseCache: the responder certificate kept once', () => {
  let pki: TestPki;
  let other: TestPki;
  const signed: Buffer[] = [];
  const otherSigned: Buffer[] = [];

  async function sign(on: TestPki, serial: bigint): Promise<Buffer> {
    const builder = new OcspResponseBuilder({ signer: on.responderSigner, signerCertificateDer: on.responderCertificateDer });
    const thisUpdate = new Date('2026-03-01T00:00:00Z');
    const single = encodeSingleResponse({
      certIdDer: encodeCertId(on.issuer, 'sha1', serial),
      certStatus: { status: 'good' },
      thisUpdate,
      nextUpdate: new Date('2026-03-02T00:00:00Z'),
    });
    return Buffer.from(await builder.build({ producedAt: thisUpdate, singleResponses: [single] }));
  }

  beforeAll(async () => {
    pki = await createTestPki();
    other = await createTestPki();
    for (let i = 1; i <= 40; i++) signed.push(await sign(pki, BigInt(i)));
    for (let i = 1; i <= 3; i++) otherSigned.push(await sign(other, BigInt(i)));
  });

  it('finds where the certs field starts, as pkijs reads the response', () => {
    for (const der of [signed[0], otherSigned[0]]) {
      const response = pkijs.OCSPResponse.fromBER(der);
      const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes!.response.valueBlock.valueHexView);
      const start = ocspCertsFieldStart(der);
      expect(start).toBeGreaterThan(0);
      // What precedes ends with the signature's bits; what follows is [0] { SEQUENCE OF Certificate } with the responder's.
      expect(der.subarray(start - basic.signature.valueBlock.valueHexView.length, start)).toEqual(Buffer.from(basic.signature.valueBlock.valueHexView));
      const tail = asn1js.fromBER(der.subarray(start));
      expect(tail.offset).toBe(der.length - start);
      expect(tail.result.idBlock.tagClass).toBe(3); // context-specific
      expect(tail.result.idBlock.tagNumber).toBe(0);
      expect(basic.certs).toHaveLength(1);
      const certificate = Buffer.from(basic.certs![0].toSchema().toBER());
      const signerDer = der === signed[0] ? pki.responderCertificateDer : other.responderCertificateDer;
      expect(certificate).toEqual(Buffer.from(signerDer));
      expect(der.subarray(der.length - certificate.length)).toEqual(certificate);
    }
  });

  it('keeps anything else whole: error responses, truncated or padded DER, no certs field', () => {
    const der = signed[0];
    expect(ocspCertsFieldStart(OCSP_TRY_LATER)).toBe(-1);
    expect(ocspCertsFieldStart(der.subarray(0, der.length - 1))).toBe(-1);
    expect(ocspCertsFieldStart(Buffer.concat([der, Buffer.of(0)]))).toBe(-1);
    expect(ocspCertsFieldStart(der.subarray(0, 1))).toBe(-1);
    expect(ocspCertsFieldStart(new Uint8Array(0))).toBe(-1);
    // The same response without its certs field (lengths rewritten): nothing to share.
    const start = ocspCertsFieldStart(der);
    const response = pkijs.OCSPResponse.fromBER(der);
    const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes!.response.valueBlock.valueHexView);
    delete basic.certs;
    response.responseBytes!.response = new asn1js.OctetString({ valueHex: basic.toSchema().toBER() });
    const bare = Buffer.from(response.toSchema().toBER());
    expect(bare.length).toBeLessThan(start + 10);
    expect(ocspCertsFieldStart(bare)).toBe(-1);
    const cache = new OcspResponseCache(1 << 20);
    cache.set('ca', 'sha1', '01', { der: bare, thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    expect(cache.get('ca', 'sha1', '01', 0)!.der).toEqual(bare);
  });

  it('gives back every response octet for octet, with the ETag of the whole', () => {
    const cache = new OcspResponseCache(64 << 20);
    signed.forEach((der, i) => cache.set('ca', 'sha1', (i + 1).toString(16), { der, thisUpdate: 0, nextUpdate: 10_000, status: GOOD }));
    signed.forEach((der, i) => {
      const entry = cache.get('ca', 'sha1', (i + 1).toString(16), 0)!;
      expect(entry.der).toEqual(der);
      expect(entry.etag).toBe(`"${createHash('sha1').update(der).digest('base64url')}"`);
    });
  });

  it('holds within its budget entries whose whole responses would not fit', () => {
    const budget = 4 << 20;
    const cache = new OcspResponseCache(budget);
    const keys = 5000;
    for (let i = 0; i < keys; i++) cache.set('ca', 'sha1', (i + 1).toString(16), { der: signed[i % signed.length], thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    const whole = Array.from({ length: keys }, (_, i) => signed[i % signed.length].length).reduce((sum, length) => sum + length, 0);
    expect(whole).toBeGreaterThan(budget); // kept whole, some would have been evicted
    expect(cache.size).toBe(keys);
    expect(cache.byteSize).toBeLessThanOrEqual(budget);
    for (const i of [0, 1, 2500, keys - 1]) expect(cache.get('ca', 'sha1', (i + 1).toString(16), 0)!.der).toEqual(signed[i % signed.length]);
  });

  it('keeps one shared end per responder certificate, and entries of both come back right', () => {
    const cache = new OcspResponseCache(1 << 20);
    cache.set('a', 'sha1', '01', { der: signed[0], thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    cache.set('b', 'sha1', '01', { der: otherSigned[0], thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    cache.set('a', 'sha1', '02', { der: signed[1], thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    cache.set('b', 'sha1', '02', { der: otherSigned[1], thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    expect(cache.get('a', 'sha1', '01', 0)!.der).toEqual(signed[0]);
    expect(cache.get('b', 'sha1', '01', 0)!.der).toEqual(otherSigned[0]);
    expect(cache.get('a', 'sha1', '02', 0)!.der).toEqual(signed[1]);
    expect(cache.get('b', 'sha1', '02', 0)!.der).toEqual(otherSigned[1]);
    cache.clear();
    cache.set('b', 'sha1', '03', { der: otherSigned[2], thisUpdate: 0, nextUpdate: 10_000, status: GOOD });
    expect(cache.get('b', 'sha1', '03', 0)!.der).toEqual(otherSigned[2]);
  });

  it('keeps responses whole once 16 different certificates are shared, and still answers them', () => {
    const cache = new OcspResponseCache(4 << 20);
    // 20 variants of the same response with a different last octet in the certificate's signature.
    const variants = Array.from({ length: 20 }, (_, i) => {
      const der = Buffer.from(signed[0]);
      der[der.length - 1] ^= i + 1;
      return der;
    });
    variants.forEach((der, i) => cache.set('ca', 'sha1', (i + 1).toString(16), { der, thisUpdate: 0, nextUpdate: 10_000, status: GOOD }));
    variants.forEach((der, i) => expect(cache.get('ca', 'sha1', (i + 1).toString(16), 0)!.der).toEqual(der));
  });
});
