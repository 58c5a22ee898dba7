/**
 * Applications per second through HTTP (issue 5): each application is two
 * certificates signed by the issuing CA key, at concurrency 16, side by side
 * with the raw signing rate of the same key measured in the same run.
 *
 *   npm run build && node dist/bench/ca-api/applications.js \
 *     [--applications 300] [--concurrency 16] [--runs 3] [--issuing-key rsa4096|rsa2048|p256] [--scrypt-log2n 17]
 *
 * Uses DATABASE_URL's server when set (a fresh database is created and
 * dropped), else an embedded PostgreSQL. The ca-api under test is the
 * compiled process (dist/apps/ca-api/src/main.js). Prints a Markdown row.
 */
import '../../tools/module-aliases';
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Pool } from 'pg';
import * as x509 from '@peculiar/x509';
import { KeyAlgorithm, SoftwareSigner } from '@moica/pki';
import { migrateUp } from '@moica/db';
import { createStaffWithToken, ensureOffice } from '../../apps/ca-api/src/auth/staff-provisioning';
import { ensureDevelopmentHierarchy } from '../../tools/dev-ca';
import { freePort, startEmbeddedPostgres } from '../../tools/embedded-postgres';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ROOT = resolve(__dirname, '..', '..', '..');
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const APPLICATIONS = Number(args.get('applications') ?? 300);
const CONCURRENCY = Number(args.get('concurrency') ?? 16);
const RUNS = Number(args.get('runs') ?? 3);
const SCRYPT_LOG2N = args.get('scrypt-log2n') ?? '17';
const KEYS: Record<string, KeyAlgorithm> = {
  rsa4096: { kind: 'RSA', modulusBits: 4096 },
  rsa2048: { kind: 'RSA', modulusBits: 2048 },
  p256: { kind: 'EC', curve: 'P-256' },
};
const ISSUING_KEY = args.get('issuing-key') ?? 'rsa4096';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** National IDs with valid check digits, distinct per n. */
function nationalId(n: number): string {
  const digits = `1${String(n).padStart(7, '0')}`.split('').map(Number);
  let sum = 1; // A = 10: 1 + 9*0
  [8, 7, 6, 5, 4, 3, 2, 1].forEach((w, i) => (sum += digits[i] * w));
  return `A${digits.join('')}${(10 - (sum % 10)) % 10}`;
}

async function csrPair(): Promise<{ signature: string; encryption: string }> {
  const make = async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as unknown;
    const request = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=card',
      keys: keys as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    return request.toString('pem');
  };
  return { signature: await make(), encryption: await make() };
}

/** Raw signatures per second of the key, one thread, for `seconds`. */
async function rawSigningRate(signer: SoftwareSigner, seconds: number): Promise<number> {
  const data = randomBytes(1400);
  const started = performance.now();
  let count = 0;
  while (performance.now() - started < seconds * 1000) {
    data[0] = count & 0xff;
    await signer.sign(data);
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`ca-api exited: ${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`ca-api not ready: ${output()}`);
}

async function main(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  let stopPg: (() => Promise<void>) | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'moica-bench-'));
  if (!adminUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: join(scratch, 'pg'), persistent: false });
    adminUrl = pg.url;
    stopPg = () => pg.stop();
  }
  const name = `moica_bench_${Date.now()}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  await migrateUp(databaseUrl);
  // BENCH_LOG_STATEMENTS=1 logs every statement's duration in the server log (to find where time goes).
  if (process.env.BENCH_LOG_STATEMENTS) await admin.query(`ALTER DATABASE "${name}" SET log_min_duration_statement = 0`);

  const passphrase = randomBytes(12).toString('hex');
  const keysDir = join(scratch, 'keys');
  await ensureDevelopmentHierarchy({
    databaseUrl,
    keysDir,
    passphrase,
    publicBaseUrl: 'http://127.0.0.1:3001',
    now: new Date(Date.now() - 3600_000),
    rootKey: { kind: 'EC', curve: 'P-384' },
    issuingKey: KEYS[ISSUING_KEY],
  });
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const office = await ensureOffice(pool, 'BENCH', 'bench office');
  const { token } = await createStaffWithToken(pool, { name: 'bench clerk', role: 'clerk', officeId: office }, new Date());
  const issuingKeyPath = readdirKey(keysDir, 'dev-issuing-ca');
  const signer = SoftwareSigner.fromEncryptedPem('bench', readFileSync(issuingKeyPath, 'utf8'), passphrase);

  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/ca-api/src/main.js')], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PII_HMAC_KEY: randomBytes(32).toString('base64'),
      SOFTWARE_KEY_PASSPHRASE: passphrase,
      USER_CODE_SCRYPT_LOG2N: SCRYPT_LOG2N,
      CA_API_PORT: String(port),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // Production requires the notice channels; notices are only queued here (no worker runs), never sent.
      SMTP_URL: 'smtp://127.0.0.1:2525',
      SMTP_FROM: 'bench <bench@example.tw>',
      SMS_GATEWAY_URL: 'http://127.0.0.1:9/sms',
      SMS_GATEWAY_USERNAME: 'bench',
      SMS_GATEWAY_PASSWORD: 'bench',
      // BENCH_CPU_PROFILE=<dir> writes a V8 CPU profile of ca-api (open it in Chrome DevTools).
      ...(process.env.BENCH_CPU_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}` } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += String(c)));
  child.stderr?.on('data', (c: Buffer) => (output += String(c)));
  await waitReady(`http://127.0.0.1:${port}/readyz`, child, () => output);

  const ratios: number[] = [];
  let next = 0;
  for (let run = 1; run <= RUNS; run++) {
    const bodies: string[] = [];
    for (let i = 0; i < APPLICATIONS; i++) {
      next++;
      bodies.push(
        JSON.stringify({
          applicant: { name: '測試', nationalId: nationalId(next), dateOfBirth: '1980-01-01', mobile: '0912345678', email: 'b@example.tw' },
          attestations: { idCardCheckedInPerson: true, householdRegistration: true, underGuardianship: false, feePaidNtd: 250 },
          userCode: 'Ab%123@x',
          cardNumber: `BN${String(next).padStart(12, '0')}`,
          csrs: await csrPair(),
        }),
      );
    }
    const rawBefore = await rawSigningRate(signer, 3);
    const latencies: number[] = [];
    let failures = 0;
    let index = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (index < bodies.length) {
          const body = bodies[index++];
          const t0 = performance.now();
          const response = await fetch(`http://127.0.0.1:${port}/v1/applications`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomBytes(8).toString('hex') },
            body,
          });
          await response.arrayBuffer();
          if (response.status !== 201) failures++;
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const rawAfter = await rawSigningRate(signer, 3);
    const raw = (rawBefore + rawAfter) / 2;
    const appsPerSecond = APPLICATIONS / seconds;
    const ratio = (appsPerSecond * 2) / raw;
    const row = `| ${run} | ${ISSUING_KEY} | 2^${SCRYPT_LOG2N} | ${CONCURRENCY} | ${appsPerSecond.toFixed(1)} | ${(appsPerSecond * 2).toFixed(1)} | ${raw.toFixed(1)} | ${ratio.toFixed(2)} | ${percentile(latencies, 50).toFixed(0)} | ${percentile(latencies, 99).toFixed(0)} | ${failures} |`;
    console.log(row);
    ratios.push(ratio);
  }
  console.log(`median ratio (certificates/s ÷ raw signatures/s): ${median(ratios).toFixed(2)}`);

  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await signer.close();
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  if (stopPg) await stopPg();
  rmSync(scratch, { recursive: true, force: true });
}

function readdirKey(dir: string, prefix: string): string {
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.key.pem'));
  if (!file) throw new Error(`no ${prefix} key in ${dir}`);
  return join(dir, file);
}

console.log('| run | issuing key | user-code scrypt N | concurrency | applications/s | certificates/s | raw signatures/s | ratio | p50 ms | p99 ms | failures |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
