/**
 * Benchmark data for the OCSP responder: the development CA hierarchy
 * (tools/dev-ca.ts, P-256 responder key), N certificates of its issuing CA
 * (10% revoked or suspended by default) written by generate_series, and
 * their pre-signed responses (the worker's presignCertificates, i.e. the
 * same code path as production). Certificates have placeholder DER: the
 * responder only reads serial, status and revocation columns.
 *
 *   npm run build && DATABASE_URL=postgres://... node dist/bench/ocsp/seed.js --count 1000000 [--keys .data/bench-keys] [--workers 2]
 *
 * Prints a JSON summary, and writes serials to <keys>/serials-<count>.txt
 * (hex of the DER INTEGER content, one per line) for the load generator.
 */
import '../../tools/module-aliases';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { SoftwareSigner } from '@moica/pki';
import { ensureDevelopmentHierarchy } from '../../tools/dev-ca';
import { presignCertificates } from '../../apps/ocsp-responder/src/ocsp/ocsp-presigner';
import { loadOcspSigningIdentities } from '../../apps/ocsp-responder/src/ocsp/ocsp-signing-identity';

export const BENCH_PASSPHRASE = 'bench-ocsp-passphrase';

interface Options {
  databaseUrl: string;
  count: number;
  keysDir: string;
  workers: number;
  revokedShare: number;
  suspendedShare: number;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  return {
    databaseUrl,
    count: Number(value('count', '100000')),
    keysDir: resolve(value('keys', '.data/bench-keys')),
    workers: Number(value('workers', '2')),
    revokedShare: Number(value('revoked', '0.05')),
    suspendedShare: Number(value('suspended', '0.05')),
  };
}

/** Inserts `count` certificates with random 16-octet serials; returns the issuing CA id. */
export async function seedCertificates(pool: Pool, caId: string, options: Options, now: Date): Promise<void> {
  const chunk = 250_000;
  for (let start = 0; start < options.count; start += chunk) {
    const end = Math.min(options.count, start + chunk);
    await pool.query(
      `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256,
                                crl_partition, revoked_at, revocation_reason, suspended_by, status_changed_at)
       SELECT $1, serial, 'signature',
              CASE WHEN r < $4 THEN 'revoked' WHEN r < $4 + $5 THEN 'suspended' ELSE 'valid' END,
              $6::timestamptz - interval '400 days', $6::timestamptz + interval '1400 days',
              '\\x3000'::bytea, '\\x3000'::bytea, sha256(serial), i % 16,
              CASE WHEN r < $4 + $5 THEN $6::timestamptz - interval '3 days' END,
              CASE WHEN r < $4 THEN 1 WHEN r < $4 + $5 THEN 6 END,
              CASE WHEN r >= $4 AND r < $4 + $5 THEN 'holder' END,
              $6::timestamptz - interval '3 days'
         FROM (SELECT i, random() AS r,
                      -- 16 random octets, first octet 0x01..0x7f: a positive minimal INTEGER (RFC 5280 §4.1.2.2)
                      set_byte(decode(md5(i::text || ':' || random()::text), 'hex'), 0,
                               (get_byte(decode(md5(i::text || ':x' || random()::text), 'hex'), 0) & 127) | 1) AS serial
                 FROM generate_series($2::int, $3::int - 1) AS i) s
       ON CONFLICT (serial) DO NOTHING`,
      [caId, start, end, options.revokedShare, options.suspendedShare, now],
    );
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv);
  const now = new Date();
  if (process.argv.includes('--presign-worker')) return presignWorker(options, now);
  mkdirSync(options.keysDir, { recursive: true });
  const started = performance.now();
  const hierarchy = await ensureDevelopmentHierarchy({
    databaseUrl: options.databaseUrl,
    keysDir: options.keysDir,
    passphrase: BENCH_PASSPHRASE,
    publicBaseUrl: 'http://127.0.0.1:3001',
    now,
    // MOICA's newest generation: RSA-4096 CAs; a P-256 responder key keeps pre-signing fast.
    ocspKey: { kind: 'EC', curve: 'P-256' },
  });
  const pool = new Pool({ connectionString: options.databaseUrl, max: 4 });
  await pool.query(`DELETE FROM ocsp_response`);
  await pool.query(`DELETE FROM certificate WHERE kind = 'signature' AND der = '\\x3000'::bytea`);
  await seedCertificates(pool, hierarchy.issuingCaId, options, now);
  const seeded = performance.now();

  // Pre-sign in parallel processes, each over a slice of the certificate ids.
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM certificate WHERE ca_id = $1`, [hierarchy.issuingCaId]);
  const total = rows[0].n;
  await Promise.all(
    Array.from({ length: options.workers }, (_, worker) =>
      new Promise<void>((done, fail) => {
        const child = fork(__filename, [...process.argv.slice(2), '--presign-worker', '--worker', String(worker)], {
          env: { ...process.env, BENCH_NOW: now.toISOString(), BENCH_CA: hierarchy.issuingCaId },
        });
        child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`presign worker ${worker} exited with ${code}`))));
      }),
    ),
  );
  const signed = performance.now();
  const serials = await pool.query<{ serial: string }>(`SELECT encode(serial, 'hex') AS serial FROM certificate WHERE ca_id = $1`, [hierarchy.issuingCaId]);
  writeFileSync(join(options.keysDir, `serials-${options.count}.txt`), serials.rows.map((row) => row.serial).join('\n') + '\n');
  const stored = await pool.query<{ n: number; bytes: string }>(`SELECT count(*)::int AS n, sum(octet_length(der))::text AS bytes FROM ocsp_response`);
  await pool.end();
  console.log(
    JSON.stringify({
      certificates: total,
      responses: stored.rows[0].n,
      averageResponseOctets: Math.round(Number(stored.rows[0].bytes) / Math.max(1, stored.rows[0].n)),
      seedSeconds: Math.round((seeded - started) / 100) / 10,
      presignSeconds: Math.round((signed - seeded) / 100) / 10,
      workers: options.workers,
      issuingCaId: hierarchy.issuingCaId,
      keysDir: options.keysDir,
    }),
  );
}

/** One pre-signing process: the certificates whose id hashes to this worker. */
async function presignWorker(options: Options, fallbackNow: Date): Promise<void> {
  const worker = Number(process.argv[process.argv.indexOf('--worker') + 1]);
  const now = new Date(process.env.BENCH_NOW ?? fallbackNow.toISOString());
  const pool = new Pool({ connectionString: options.databaseUrl, max: 2 });
  const identities = await loadOcspSigningIdentities(pool, async (location, label) => {
    const { readFile } = await import('node:fs/promises');
    return SoftwareSigner.fromEncryptedPem(label, await readFile(location.replace(/^software:/, ''), 'utf8'), BENCH_PASSPHRASE);
  });
  let cursor = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM certificate WHERE ca_id = $1 AND id > $2 ORDER BY id LIMIT 20000`,
      [process.env.BENCH_CA, cursor],
    );
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1].id;
    const mine = rows.filter((_, i) => i % options.workers === worker).map((row) => row.id);
    await presignCertificates(pool, identities, mine, { now, validityHours: 24, batchSize: 2000 });
  }
  await pool.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
