import { OCSP_MALFORMED_REQUEST, OCSP_TRY_LATER, OCSP_UNAUTHORIZED } from '@moica/pki';
import { LiveSigningBudget } from './live-signing-budget';
import { decodeGetPath } from './ocsp-http';
import { CA_ID, HOUR, createResponderFixture } from './testing/responder-fixture';

const GOOD = 0x1001n;
const REVOKED = 0x1002n;
const SUSPENDED = 0x81003n; // top bit set in its first octet: DER content 00 08 10 03
const NEW = 0x1004n; // in the database, not pre-signed yet

async function fixture(options?: Parameters<typeof createResponderFixture>[0]) {
  const f = await createResponderFixture(options);
  await f.store(GOOD, 'valid', true);
  await f.store(REVOKED, 'revoked', true);
  await f.store(SUSPENDED, 'suspended', true);
  await f.store(NEW, 'valid', false);
  return f;
}

describe('OcspResponder', () => {
  it.each([
    [GOOD, 'good'],
    [REVOKED, 'revoked'],
    [SUSPENDED, 'revoked'],
    [NEW, 'good'],
    [0x9999n, 'unknown'],
  ])('answers serial %s with %s, then from the cache without a look-up', async (serial, result) => {
    const f = await fixture();
    const first = await f.responder.answer(f.request([serial]));
    expect(first.result).toBe(result);
    const lookups = f.repository.lookups;
    const second = f.responder.answer(f.request([serial]));
    expect(second).not.toBeInstanceOf(Promise); // a hit is synchronous
    expect((second as { der: Uint8Array }).der).toEqual(first.der);
    expect(f.repository.lookups).toBe(lookups);
  });

  it('serves the stored pre-signed response as is (no live signature)', async () => {
    const f = await fixture();
    const answer = await f.responder.answer(f.request([GOOD]));
    expect(Buffer.from(answer.der).equals(f.repository.rows.get('1001')!.der!)).toBe(true);
    expect(f.metrics.liveSignatures).toBe(0);
    expect(answer.cacheable?.nextUpdate).toBe(f.clock.now.getTime() + 24 * HOUR);
  });

  it('refuses what does not parse, too many CertIDs, and other issuers', async () => {
    const f = await fixture({ maxCertIds: 2 });
    expect(await f.responder.answer(Uint8Array.of(0x30, 0x00))).toMatchObject({ der: OCSP_MALFORMED_REQUEST, result: 'malformedRequest' });
    expect(await f.responder.answer(f.request([GOOD, REVOKED, NEW]))).toMatchObject({ result: 'malformedRequest' });
    const other = f.request([GOOD]);
    other[other.length - 30] ^= 0xff; // inside the issuerKeyHash
    expect(await f.responder.answer(other)).toMatchObject({ der: OCSP_UNAUTHORIZED, result: 'unauthorized' });
  });

  it('signs a nonced request freshly and echoes the nonce; several CertIDs in one response', async () => {
    const f = await fixture();
    const nonce = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const answer = await f.responder.answer(f.request([GOOD, SUSPENDED], { nonce }));
    expect(answer.result).toBe('revoked');
    expect(Buffer.from(answer.der).includes(nonce)).toBe(true);
    expect(answer.cacheable).toBeUndefined();
    expect(f.metrics.liveSignatures).toBe(1);
  });

  it('keeps nonced floods from using the signatures that status changes need', async () => {
    const f = await fixture({ liveSignaturesPerSecond: 8 }); // reserve: 2 tokens for needed signatures
    const nonce = Uint8Array.of(1, 2, 3, 4);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await f.responder.answer(f.request([GOOD], { nonce })));
    // 6 signed with the nonce (8 minus the reserve), the rest served pre-signed without it (RFC 8954 allows it), never tryLater.
    expect(results.filter((r) => Buffer.from(r.der).includes(Buffer.from(nonce))).length).toBe(6);
    expect(results.every((r) => r.result === 'good')).toBe(true);
    // A certificate that needs a signature (not pre-signed) still gets one.
    expect((await f.responder.answer(f.request([NEW]))).result).toBe('good');
    // Several CertIDs over the budget: tryLater rather than a queue.
    expect(await f.responder.answer(f.request([GOOD, REVOKED], { nonce }))).toMatchObject({ der: OCSP_TRY_LATER });
  });

  it('answers a status change from its notice at once, even when the database still has the old response', async () => {
    const f = await fixture();
    expect((await f.responder.answer(f.request([GOOD]))).result).toBe('good');
    f.responder.applyNotice({ id: 'x', ca: CA_ID, serial: '1001', status: 'suspended', revokedAt: '2026-03-01T00:00:00.000Z', reason: 6 });
    const suspended = await f.responder.answer(f.request([GOOD]));
    expect(suspended.result).toBe('revoked');
    // Resumption: good again, although the (lagging) database row says suspended... or whatever it says.
    f.responder.applyNotice({ id: 'x', ca: CA_ID, serial: '1001', status: 'valid', revokedAt: null, reason: null });
    expect((await f.responder.answer(f.request([GOOD]))).result).toBe('good');
    // The suspended leaf with a leading 00 in its DER serial is found by the notice's hex too.
    f.responder.applyNotice({ id: 'y', ca: CA_ID, serial: '00081003', status: 'valid', revokedAt: null, reason: null });
    expect((await f.responder.answer(f.request([SUSPENDED]))).result).toBe('good');
  });

  it('never caches an answer signed for a status that changed while it was being signed', async () => {
    // Found by bench/scale-out (issue 11): suspension, then resumption during the live signature of
    // the suspended answer; that answer was cached after the resumption and served until nextUpdate.
    const f = await fixture();
    f.responder.applyNotice({ id: 'x', ca: CA_ID, serial: '1001', status: 'suspended', revokedAt: '2026-03-01T00:00:00.000Z', reason: 6 });
    const signing = f.responder.answer(f.request([GOOD])); // signs "hold" from the notice (asynchronous)
    f.responder.applyNotice({ id: 'x', ca: CA_ID, serial: '1001', status: 'valid', revokedAt: null, reason: null });
    const old = await signing;
    expect(old.result).toBe('revoked'); // the request began before the resumption
    expect(old.cacheable).toBeUndefined();
    expect((await f.responder.answer(f.request([GOOD]))).result).toBe('good');
  });

  it('keeps answering from a notice past its window while the replica has not replayed the change', async () => {
    let extensionMs = 0;
    const f = await fixture({ noticeWindowMs: 0, noticeExtensionMs: () => extensionMs });
    // The replica (the fake repository) still says valid; the notice says revoked.
    f.responder.applyNotice({ id: 'x', ca: CA_ID, serial: '1001', status: 'revoked', revokedAt: '2026-03-01T00:00:00.000Z', reason: 1 });
    extensionMs = 60_000; // the replica is a minute behind
    expect((await f.responder.answer(f.request([GOOD]))).result).toBe('revoked');
    f.responder.applyNotice({ id: 'x', ca: CA_ID, serial: '1001', status: 'revoked', revokedAt: '2026-03-01T00:00:00.000Z', reason: 1 });
    extensionMs = 0; // caught up: the database's row is read again (here still the stale one, to show which source won)
    expect((await f.responder.answer(f.request([GOOD]))).result).toBe('good');
  });

  it('answers tryLater, not unknown, for a serial missing from a replica that may not be current', async () => {
    // Found by bench/scale-out: a certificate issued right after a primary restart, asked before the
    // replica and the LISTEN connection had caught up, was signed and cached as unknown.
    let current = false;
    const f = await fixture({ readsAreCurrent: () => current });
    expect(await f.responder.answer(f.request([0x7777n]))).toMatchObject({ der: OCSP_TRY_LATER, result: 'tryLater' });
    expect((await f.responder.answer(f.request([GOOD]))).result).toBe('good'); // what is found is answered
    current = true;
    expect((await f.responder.answer(f.request([0x7777n]))).result).toBe('unknown');
  });

  it('serves cached responses until their nextUpdate when the database is down, then tryLater; never throws', async () => {
    const f = await fixture();
    await f.responder.answer(f.request([GOOD]));
    f.repository.down = true;
    // Inside the refresh margin (the last 1/8 of the validity) the cache would re-read; the database is down: serve it.
    f.clock.now = new Date(f.clock.now.getTime() + 23 * HOUR);
    expect(await f.responder.answer(f.request([GOOD]))).toMatchObject({ result: 'good' });
    expect(await f.responder.answer(f.request([REVOKED]))).toMatchObject({ der: OCSP_TRY_LATER, result: 'tryLater' });
    f.clock.now = new Date(f.clock.now.getTime() + 2 * HOUR);
    expect(await f.responder.answer(f.request([GOOD]))).toMatchObject({ der: OCSP_TRY_LATER });
    expect(f.metrics.databaseErrors).toBeGreaterThanOrEqual(3);
  });

  it('answers SHA-256 CertIDs by signing once, then from the cache', async () => {
    const f = await fixture();
    const first = await f.responder.answer(f.request([REVOKED], { hash: 'sha256' }));
    expect(first.result).toBe('revoked');
    expect(f.metrics.liveSignatures).toBe(1);
    const again = await f.responder.answer(f.request([REVOKED], { hash: 'sha256' }));
    expect(again.der).toEqual(first.der);
    expect(f.metrics.liveSignatures).toBe(1);
  });

  it('coalesces concurrent misses for one serial into one look-up', async () => {
    const f = await fixture();
    const answers = await Promise.all(Array.from({ length: 20 }, () => f.responder.answer(f.request([NEW]))));
    expect(new Set(answers.map((a) => Buffer.from(a.der).toString('hex'))).size).toBe(1);
    expect(f.repository.lookups).toBe(1);
    expect(f.metrics.liveSignatures).toBe(1);
  });
});

describe('LiveSigningBudget', () => {
  it('refills at its rate and keeps a quarter for needed signatures', () => {
    let now = 0;
    const budget = new LiveSigningBudget(100, () => now);
    let optional = 0;
    while (budget.take('optional')) optional++;
    expect(optional).toBe(75);
    let needed = 0;
    while (budget.take('needed')) needed++;
    expect(needed).toBe(25);
    now += 100; // 10 tokens
    expect(budget.take('optional')).toBe(false);
    expect(budget.take('needed')).toBe(true);
  });
});

describe('decodeGetPath (RFC 5019 §5)', () => {
  const served = { servedIssuers: [{ caName: 'dev-issuing' }] } as never;
  const der = Buffer.from('3051304f304d304b3049300906052b0e03021a05000414', 'hex');
  const base64 = der.toString('base64');

  it.each([
    [`/ocsp/${encodeURIComponent(base64)}`],
    [`/ocsp/dev-issuing/${encodeURIComponent(base64)}`],
    [`/ocsp/${base64}`],
    [`/ocsp/${base64.replace(/\+/g, ' ')}`],
    [`/ocsp/dev-issuing/${encodeURIComponent(base64)}?ignored=1`],
  ])('decodes %s', (url) => {
    expect(Buffer.from(decodeGetPath(url, served)!).equals(der)).toBe(true);
  });

  it.each([
    ['empty', '/ocsp/'],
    ['bad percent-encoding', '/ocsp/%zz'],
    ['not base64', '/ocsp/not*base64'],
    ['only padding', '/ocsp/====='],
    ['longer than any request', `/ocsp/${'A'.repeat(300_000)}`],
  ])('refuses %s', (_label, url) => {
    expect(decodeGetPath(url, served)).toBeUndefined();
  });
});
