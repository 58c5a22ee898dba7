/**
 * The responder's per-request work without HTTP, in process: parse, issuer
 * filter, cache look-up (one Map of N entries), for N = 100,000 and
 * 1,000,000 and 10,000,000 synthetic entries (the same response bytes under
 * N random serials: what grows with N is the Map, not the bytes). Shows how
 * the cost of a look-up grows with the number of certificates, what
 * memory the index takes (V8 heap after a full GC, and off-heap memory), and
 * how long filling the cache takes.
 *
 *   node --expose-gc --max-old-space-size=8192 dist/bench/ocsp/hot-path.js [counts=100000,1000000,10000000] [derBytes=1306]
 *
 * derBytes is the size of the stand-in response (1,306 octets is a real one
 * with the RSA-4096 development CA); a smaller one keeps 10,000,000 entries
 * within a shared machine's memory when the cache copies the bytes.
 */
import '../../tools/module-aliases';
import { randomBytes } from 'node:crypto';
import { encodeCertId, OcspResponseBuilder, SoftwareSigner } from '@moica/pki';
import { makeTestCertificate } from '../../libs/pki/src/revocation/testing/test-certificates';
import { revocationIssuerFromCertificate } from '../../libs/pki/src/revocation';
import { LiveSigningBudget } from '../../apps/ocsp-responder/src/ocsp/live-signing-budget';
import { OcspMetrics } from '../../apps/ocsp-responder/src/ocsp/ocsp-metrics';
import { OcspResponder } from '../../apps/ocsp-responder/src/ocsp/ocsp-responder';
import { OcspResponseCache } from '../../apps/ocsp-responder/src/ocsp/ocsp-response-cache';
import { ocspRequestDer } from './make-requests';

async function main(): Promise<void> {
  const counts = (process.argv[2] ?? '100000,1000000,10000000').split(',').map(Number);
  const ca = await SoftwareSigner.generate('software:bench-ca', { kind: 'EC', curve: 'P-256' });
  const caDer = await makeTestCertificate({
    serial: 1n, commonName: 'Bench CA', subjectPublicKeySpki: ca.publicKeySpki,
    notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2049-01-01T00:00:00Z'), role: 'ca', signer: ca,
  });
  const issuer = revocationIssuerFromCertificate(caDer);
  const builder = new OcspResponseBuilder({ signer: ca, signerCertificateDer: caDer });
  const der = Buffer.alloc(Number(process.argv[3] ?? 1306), 0x30);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  for (const n of counts) {
    gc();
    const before = process.memoryUsage();
    const cache = new OcspResponseCache(64 * 1024 ** 3);
    const fillStarted = performance.now();
    const serials: string[] = [];
    const now = Date.parse('2026-03-01T00:00:00Z');
    for (let i = 0; i < n; i++) {
      const serial = randomBytes(16);
      serial[0] = (serial[0] & 0x7f) | 1;
      const hex = serial.toString('hex');
      if (i % Math.ceil(n / 100_000) === 0) serials.push(hex);
      // One DER buffer, the same bytes under every serial (whether the cache copies them is the cache's business).
      cache.set('ca', 'sha1', hex, { der, thisUpdate: now, nextUpdate: now + 86_400_000, status: { code: 0, revokedAt: 0, reason: -1 } });
    }
    const fillSeconds = Math.round((performance.now() - fillStarted) / 100) / 10;
    gc();
    const after = process.memoryUsage();
    const mib = (bytes: number) => Math.round(bytes / 1048576);
    const memory = {
      fillSeconds,
      heapMiB: mib(after.heapUsed - before.heapUsed),
      offHeapMiB: mib(after.arrayBuffers - before.arrayBuffers),
      cacheByteSizeMiB: mib(cache.byteSize),
    };
    const responder = new OcspResponder({
      identities: [{ caId: 'ca', caName: 'bench', issuer, builder, signer: ca }],
      cache, unknownCache: new OcspResponseCache(1 << 20), repository: undefined as never,
      budget: new LiveSigningBudget(1), metrics: new OcspMetrics(), now: () => new Date(now), validityMs: 86_400_000, maxCertIds: 8,
    });
    const requests = serials.map((hex) => ocspRequestDer(encodeCertId(issuer, 'sha1', hex)));
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      let hits = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const answer = responder.answer(requests[(i * 7919) % requests.length]);
        if (!(answer instanceof Promise) && answer.result === 'good') hits++;
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(JSON.stringify({ entries: n, round, answersPerSecond: Math.round(1_000_000 / seconds), nsPerAnswer: Math.round((seconds * 1e9) / 1e6), hits, ...memory }));
    }
  }
}

void main();
