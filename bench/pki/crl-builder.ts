/**
 * Benchmark: a national-scale CRL (RFC 5280 §5) of 1,000,000 entries,
 * encoded and signed by the streaming CRL builder with software RSA keys.
 *
 * Run (from the repository root):
 *
 *   npm run build && node dist/bench/pki/crl-builder.js
 *   node dist/bench/pki/crl-builder.js --entries 200000      # a smaller run
 *
 * Each case runs in its own child process so that its peak RSS
 * (getrusage maxrss) is its own. Cases:
 * - `objects`: entries arrive as CrlEntry objects (serial 16 random octets,
 *   mixed reasons, some invalidity dates) from an async generator and are
 *   encoded by the builder (encodeCrlEntry) on the fly;
 * - `stored`: entries arrive as stored DER bytes, 1,000 rows per item, as a
 *   database cursor would return them (the shape chosen for production);
 * - `stored+length`: as `stored`, with the total entry length given up front
 *   (`entriesByteLength`), so the TBS is written in one pass.
 * The time covers consuming the entries, building the TBSCertList, signing it
 * and hashing the result; the signature is then checked (not timed).
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, randomFillSync, verify } from 'node:crypto';
import { buildCrl, CrlEntry, encodeCrlEntry, CrlReason } from '../../libs/pki/src/revocation';
import { revocationIssuerFromCertificate } from '../../libs/pki/src/revocation/revocation-issuer';
import { makeTestCertificate } from '../../libs/pki/src/revocation/testing/test-certificates';
import { SoftwareSigner } from '../../libs/pki/src/signing';

type Mode = 'objects' | 'stored' | 'stored+length';
interface CaseResult {
  key: string;
  mode: Mode;
  entries: number;
  bytes: number;
  seconds: number;
  entriesPerSecond: number;
  baselineRssMb: number;
  peakRssMb: number;
  verified: boolean;
}

const CASES: Array<{ modulusBits: 2048 | 4096; mode: Mode }> = [
  { modulusBits: 2048, mode: 'objects' },
  { modulusBits: 4096, mode: 'objects' },
  { modulusBits: 2048, mode: 'stored' },
  { modulusBits: 4096, mode: 'stored' },
  { modulusBits: 2048, mode: 'stored+length' },
  { modulusBits: 4096, mode: 'stored+length' },
];
const THIS_UPDATE = new Date('2026-03-01T00:00:00Z');
const NEXT_UPDATE = new Date('2026-03-02T00:00:00Z');
const REASONS: Array<CrlReason | undefined> = [undefined, 'keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged', 'certificateHold'];
const ROWS_PER_FETCH = 1000;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** The i-th revoked certificate, with a fresh random 16-octet serial (top bit clear, like the CA's). */
function entryFor(i: number, serialPool: Uint8Array, offset: number): CrlEntry {
  const serial = serialPool.subarray(offset, offset + 16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const revokedAt = new Date(Date.UTC(2021, 0, 1) + (i % 1_800) * 86_400_000 + (i % 86_400) * 1000);
  return {
    serial,
    revokedAt,
    reason: REASONS[i % REASONS.length],
    invalidityDate: i % 20 === 0 ? new Date(revokedAt.getTime() - 86_400_000) : undefined,
  };
}

async function* entryObjects(count: number): AsyncGenerator<CrlEntry> {
  const pool = new Uint8Array(16 * ROWS_PER_FETCH);
  for (let i = 0; i < count; i++) {
    if (i % ROWS_PER_FETCH === 0) randomFillSync(pool);
    yield entryFor(i, pool, (i % ROWS_PER_FETCH) * 16);
  }
}

/** Stored entry DERs as a cursor returns them: ROWS_PER_FETCH rows concatenated per item. */
async function* storedEntries(count: number): AsyncGenerator<Uint8Array> {
  const pool = new Uint8Array(16 * ROWS_PER_FETCH);
  for (let start = 0; start < count; start += ROWS_PER_FETCH) {
    randomFillSync(pool);
    const rows: Uint8Array[] = [];
    let length = 0;
    for (let i = start; i < Math.min(count, start + ROWS_PER_FETCH); i++) {
      const der = encodeCrlEntry(entryFor(i, pool, (i - start) * 16));
      rows.push(der);
      length += der.length;
    }
    yield Buffer.concat(rows, length);
  }
}

/** Total DER length of the stored entries (what `SELECT sum(octet_length(entry_der))` would return). */
function storedLength(count: number): number {
  // Serial and times have fixed sizes here, so the length depends on i only through reason and invalidity date.
  let total = 0;
  const pool = new Uint8Array(16);
  for (let i = 0; i < count; i++) total += encodeCrlEntry(entryFor(i, pool, 0)).length;
  return total;
}

async function runCase(modulusBits: 2048 | 4096, mode: Mode, count: number): Promise<CaseResult> {
  const signer = await SoftwareSigner.generate(`software:bench-rsa-${modulusBits}`, { kind: 'RSA', modulusBits });
  const caCertificateDer = await makeTestCertificate({
    serial: 1n,
    commonName: 'MOICA Bench CA',
    subjectPublicKeySpki: signer.publicKeySpki,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2049-12-31T23:59:59Z'),
    role: 'ca',
    signer,
  });
  const issuer = revocationIssuerFromCertificate(caCertificateDer);
  const entriesByteLength = mode === 'stored+length' ? storedLength(count) : undefined;
  global.gc?.();
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;

  const started = process.hrtime.bigint();
  const crl = await buildCrl(
    {
      issuer,
      signer,
      crlNumber: 1_000_001n,
      thisUpdate: THIS_UPDATE,
      nextUpdate: NEXT_UPDATE,
      scope: { kind: 'complete', freshestCrlUris: ['http://crl.example.tw/moica/delta.crl'] },
      entriesByteLength,
    },
    mode === 'objects' ? entryObjects(count) : storedEntries(count),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  const [, tbs, tail] = crl.chunks;
  const signature = tail.subarray(tail.length - modulusBits / 8);
  const publicKey = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
  const verified = crl.entryCount === count && verify('sha256', tbs, publicKey, signature);
  return {
    key: `RSA-${modulusBits}`,
    mode,
    entries: crl.entryCount,
    bytes: crl.byteLength,
    seconds,
    entriesPerSecond: Math.round(count / seconds),
    baselineRssMb,
    peakRssMb,
    verified,
  };
}

async function main(): Promise<void> {
  const count = Number(argument('--entries') ?? 1_000_000);
  const single = argument('--case');
  if (single) {
    const [bits, mode] = single.split(':');
    const result = await runCase(Number(bits) as 2048 | 4096, mode as Mode, count);
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  console.log(`CRL builder benchmark: ${count.toLocaleString('en')} entries, Node ${process.version}`);
  console.log('key       mode           entries     MB     seconds  entries/s   RSS before  peak RSS  signature');
  for (const { modulusBits, mode } of CASES) {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', __filename, '--case', `${modulusBits}:${mode}`, '--entries', String(count)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) {
      console.error(`case RSA-${modulusBits} ${mode} failed:\n${child.stderr}`);
      process.exitCode = 1;
      continue;
    }
    const r = JSON.parse(child.stdout.trim().split('\n').pop() as string) as CaseResult;
    console.log(
      [
        r.key.padEnd(9),
        r.mode.padEnd(14),
        String(r.entries).padStart(8),
        (r.bytes / 1e6).toFixed(1).padStart(7),
        r.seconds.toFixed(2).padStart(10),
        String(r.entriesPerSecond).padStart(10),
        `${r.baselineRssMb.toFixed(0)} MB`.padStart(12),
        `${r.peakRssMb.toFixed(0)} MB`.padStart(9),
        r.verified ? 'verified' : 'NOT VERIFIED',
      ].join(' '),
    );
    if (!r.verified) process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
