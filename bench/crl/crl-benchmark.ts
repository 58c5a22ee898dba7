/**
 * Benchmark (issue 7): the complete CRL of 1,000,000 revoked certificates
 * generated from PostgreSQL, signed (RSA-4096, as MOICA's issuing CA) and
 * stored in published_crl, against `openssl ca -gencrl` over an index of the
 * same entries, side by side in one run. Figures in docs/benchmarks.md ("CRL").
 *
 *   npm run build
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node dist/bench/crl/crl-benchmark.js
 *   ... --entries 200000 --runs 3 --der-bytes 1200 --reuse
 *
 * - Creates (or with --reuse keeps) the database `moica_bench_crl` on that
 *   server, migrates it, creates an RSA-4096 CA and loads N revoked
 *   certificates (bench/crl/load-revoked.ts: random 16-octet serials, mixed
 *   reasons, some invalidity dates, a `--der-bytes` stand-in certificate so
 *   the heap is realistic, and crl_entry_der computed with encodeCrlEntry in
 *   batches, as the CA stores it at revocation), then VACUUM ANALYZE.
 * - Each of `--runs` rounds runs, one after the other, in fresh processes:
 *   ours (bench/crl/publish-once.ts, `publishCrlScope`: COPY BINARY from an index-only scan into
 *   buildCrl, sign, COPY back into published_crl) and `openssl ca -gencrl`
 *   under /usr/bin/time -v. Wall time and peak RSS (getrusage maxrss) of
 *   each; medians and ratios are printed as a markdown table.
 * - Our CRL is then checked by `openssl crl -CAfile` (not timed).
 */
import '../../tools/module-aliases';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Pool } from 'pg';
import { SoftwareSigner } from '@moica/pki';
import { migrateUp } from '../../db/data-source';
import { makeTestCertificate, toPem } from '../../libs/pki/src/revocation/testing/test-certificates';
import { insertBenchCa, loadRevokedCertificates } from './load-revoked';

const DATABASE = 'moica_bench_crl';
const PASSPHRASE = 'bench-crl-passphrase';
const WORK_DIR = resolve(process.cwd(), '.data', 'bench-crl');

function argument(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

function benchUrl(): string {
  const admin = process.env.DATABASE_URL;
  if (!admin) throw new Error('set DATABASE_URL to a PostgreSQL server (the benchmark creates its own database there)');
  const url = new URL(admin);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

interface RunFigures {
  seconds: number;
  peakRssMb: number;
  bytes: number;
  entries?: number;
  baselineRssMb?: number;
  steps?: Record<string, number>;
}

function runOurs(mode: 'snapshot-sum' | 'stream'): RunFigures {
  const child = spawnSync(process.execPath, [join(__dirname, 'publish-once.js'), benchUrl(), WORK_DIR, PASSPHRASE, mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`publish-once failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as RunFigures;
}

function runOpenssl(): RunFigures {
  const out = join(WORK_DIR, 'openssl.crl.pem');
  const started = process.hrtime.bigint();
  const child = spawnSync(
    '/usr/bin/time',
    ['-v', 'openssl', 'ca', '-gencrl', '-config', join(WORK_DIR, 'ca.cnf'), '-passin', `pass:${PASSPHRASE}`, '-out', out],
    { encoding: 'utf8', cwd: WORK_DIR, maxBuffer: 16 << 20 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0) throw new Error(`openssl ca -gencrl failed: ${child.stderr}`);
  const maxRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(child.stderr);
  const der = spawnSync('openssl', ['crl', '-in', out, '-outform', 'DER', '-out', join(WORK_DIR, 'openssl.crl')]);
  if (der.status !== 0) throw new Error('openssl crl -outform DER failed');
  return { seconds, peakRssMb: maxRss ? Number(maxRss[1]) / 1024 : NaN, bytes: statSync(join(WORK_DIR, 'openssl.crl')).size };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function prepare(entries: number, derBytes: number, reuse: boolean): Promise<void> {
  mkdirSync(WORK_DIR, { recursive: true });
  const adminUrl = process.env.DATABASE_URL as string;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const exists = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [DATABASE])).rows.length > 0;
  if (exists && reuse && existsSync(join(WORK_DIR, 'index.txt'))) {
    await admin.end();
    const pool = new Pool({ connectionString: benchUrl() });
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM certificate WHERE status = 'revoked'`);
    await pool.end();
    if (rows[0].n === entries) {
      console.log(`reusing ${DATABASE} with ${entries} revoked certificates`);
      return;
    }
  }
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  await migrateUp(benchUrl());

  console.log('generating the RSA-4096 CA key...');
  const signer = await SoftwareSigner.generate('software:bench-crl-ca', { kind: 'RSA', modulusBits: 4096 });
  const caDer = await makeTestCertificate({
    serial: 1n,
    commonName: 'Bench CRL Issuing CA',
    subjectPublicKeySpki: signer.publicKeySpki,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2040-01-01T00:00:00Z'),
    role: 'ca',
    signer,
  });
  writeFileSync(join(WORK_DIR, 'ca.key'), signer.exportEncryptedPem(PASSPHRASE), { mode: 0o600 });
  writeFileSync(join(WORK_DIR, 'ca.pem'), toPem(caDer, 'CERTIFICATE'));
  writeFileSync(
    join(WORK_DIR, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = bench',
      '[ bench ]',
      `dir = ${WORK_DIR}`,
      'database = $dir/index.txt',
      'crlnumber = $dir/crlnumber',
      'certificate = $dir/ca.pem',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'default_crl_hours = 36',
      'crl_extensions = crl_ext',
      '[ crl_ext ]',
      'authorityKeyIdentifier = keyid:always',
      '',
    ].join('\n'),
  );
  writeFileSync(join(WORK_DIR, 'crlnumber'), '1000\n');
  writeFileSync(join(WORK_DIR, 'index.txt.attr'), 'unique_subject = no\n');

  const pool = new Pool({ connectionString: benchUrl(), max: 4 });
  const caId = await insertBenchCa(pool, 'bench-crl', caDer, 16);
  console.log(`loading ${entries} revoked certificates (entry DER computed with encodeCrlEntry, ${derBytes}-octet certificate stand-ins)...`);
  const started = Date.now();
  await loadRevokedCertificates(pool, { caId, count: entries, derBytes, partitions: 16, indexFile: join(WORK_DIR, 'index.txt') });
  console.log(`loaded in ${((Date.now() - started) / 1000).toFixed(1)} s; VACUUM ANALYZE...`);
  await pool.query('VACUUM ANALYZE certificate');
  await pool.end();
  await signer.close();
}

async function main(): Promise<void> {
  const entries = Number(argument('--entries', '1000000'));
  const runs = Number(argument('--runs', '3'));
  const derBytes = Number(argument('--der-bytes', '1200'));
  await prepare(entries, derBytes, process.argv.includes('--reuse'));

  const pool = new Pool({ connectionString: benchUrl() });
  const plan = await pool.query(
    `EXPLAIN SELECT crl_entry_der FROM certificate WHERE ca_id = (SELECT id FROM certificate_authority WHERE name = 'bench-crl')
       AND status IN ('revoked', 'suspended', 'on_hold') AND not_after > now()`,
  );
  console.log(`plan: ${plan.rows.map((r) => r['QUERY PLAN']).join(' / ')}`);

  const ours: RunFigures[] = [];
  const oursStream: RunFigures[] = [];
  const openssl: RunFigures[] = [];
  const describe = (r: RunFigures) =>
    `${r.seconds.toFixed(2)} s, ${r.peakRssMb.toFixed(0)} MB peak (${r.baselineRssMb?.toFixed(0)} MB before), ${(r.bytes / 1e6).toFixed(1)} MB CRL ` +
    `(${r.entries} entries; ${Object.entries(r.steps ?? {}).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')})`;
  for (let run = 1; run <= runs; run++) {
    const a = runOurs('snapshot-sum');
    const c = runOurs('stream');
    const b = runOpenssl();
    ours.push(a);
    oursStream.push(c);
    openssl.push(b);
    console.log(`run ${run}: ours (snapshot-sum) ${describe(a)}`);
    console.log(`run ${run}: ours (stream) ${describe(c)}`);
    console.log(`run ${run}: openssl ca -gencrl ${b.seconds.toFixed(2)} s, ${b.peakRssMb.toFixed(0)} MB peak, ${(b.bytes / 1e6).toFixed(1)} MB CRL`);
  }

  const { rows } = await pool.query(`SELECT der FROM published_crl ORDER BY crl_number DESC LIMIT 1`);
  writeFileSync(join(WORK_DIR, 'ours.crl'), rows[0].der);
  await pool.end();
  const check = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', join(WORK_DIR, 'ours.crl'), '-noout', '-CAfile', join(WORK_DIR, 'ca.pem')], {
    encoding: 'utf8',
  });
  console.log(`openssl crl -CAfile on our CRL: ${(check.stdout + check.stderr).trim()} (exit ${check.status})`);

  const summary = (runsOf: RunFigures[]) => ({
    seconds: median(runsOf.map((r) => r.seconds)),
    rss: median(runsOf.map((r) => r.peakRssMb)),
    bytes: runsOf[0].bytes,
  });
  const o = summary(ours);
  const t = summary(oursStream);
  const s = summary(openssl);
  const row = (name: string, f: { seconds: number; rss: number; bytes: number }, runsOf: RunFigures[]) => {
    const ratios = runsOf.map((r, i) => openssl[i].seconds / r.seconds);
    return `| ${name} | ${f.seconds.toFixed(2)} s | ${f.rss.toFixed(0)} MB | ${(f.bytes / 1e6).toFixed(1)} MB | ${runsOf === openssl ? '1' : `${median(ratios).toFixed(1)}x (${ratios.map((x) => x.toFixed(1)).join(', ')})`} |`;
  };
  console.log(`\n| ${entries.toLocaleString('en')} revoked entries, RSA-4096, median of ${runs} | wall time | peak RSS | CRL (DER) | openssl time / ours, per run (median) |`);
  console.log('|---|---|---|---|---|');
  console.log(row('moica-ca, snapshot-sum (default): COPY BINARY + parallel sum in the same snapshot -> one TBS -> sign -> COPY into published_crl', o, ours));
  console.log(row('moica-ca, stream: COPY BINARY -> chunks -> TBS -> sign -> COPY into published_crl', t, oursStream));
  console.log(row('openssl ca -gencrl (index.txt)', s, openssl));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
