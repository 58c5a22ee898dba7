import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Clock, createHttpApp, keyOpenerFor, loadConfig } from '@moica/platform';
import { CaApiModule } from '../../apps/ca-api/src/ca-api.module';
import { serveOpenApi } from '../../apps/ca-api/src/openapi';
import { createStaffWithToken, ensureOffice } from '../../apps/ca-api/src/auth/staff-provisioning';
import { ensureDevelopmentHierarchy } from '../../tools/dev-ca';
import { createTestDatabase } from './database';

/** A clock the test moves. */
export class TestClock extends Clock {
  constructor(private current: Date) {
    super();
  }
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(instant: Date | string): void {
    this.current = new Date(instant);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface CaApiHarness {
  url: string;
  app: NestFastifyApplication;
  clock: TestClock;
  pool: Pool;
  databaseUrl: string;
  env: Record<string, string>;
  tokens: { clerk: string; otherOfficeClerk: string; supervisor: string; operator: string; auditor: string };
  officeIds: { main: string; other: string };
  keysDir: string;
  /** Sends JSON with a bearer token and, for writes, a fresh Idempotency-Key unless one is given. */
  call(method: string, path: string, options?: { token?: string; body?: unknown; idempotencyKey?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/**
 * ca-api in this process on a fresh database with a development CA
 * (RSA-2048 issuing key for speed), an office with a clerk, a second office,
 * a supervisor, an operator and an auditor, and a controllable clock.
 */
export async function startCaApi(options: { now?: string; env?: Record<string, string>; port?: number; issuingCaYears?: number } = {}): Promise<CaApiHarness> {
  const db = await createTestDatabase();
  const clock = new TestClock(new Date(options.now ?? '2026-03-02T02:00:00Z'));
  const keysDir = mkdtempSync(join(tmpdir(), 'moica-ca-keys-'));
  const passphrase = randomBytes(12).toString('hex');
  await ensureDevelopmentHierarchy({
    databaseUrl: db.url,
    keysDir,
    passphrase,
    publicBaseUrl: 'http://127.0.0.1:3001',
    now: new Date(clock.now().getTime() - 24 * 3600_000),
    rootKey: { kind: 'EC', curve: 'P-384' },
    issuingKey: { kind: 'RSA', modulusBits: 2048 },
    ocspKey: { kind: 'EC', curve: 'P-256' },
    issuingCaYears: options.issuingCaYears,
  });
  const env = {
    DATABASE_URL: db.url,
    PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
    SOFTWARE_KEY_PASSPHRASE: passphrase,
    USER_CODE_SCRYPT_LOG2N: '14',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    ...(options.env ?? {}),
  };
  const config = loadConfig(env);
  config.clock = clock;
  const app = await createHttpApp(CaApiModule.forRoot(config, keyOpenerFor(config)));
  serveOpenApi(app);
  await app.listen(options.port ?? 0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;

  const pool = new Pool({ connectionString: db.url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) at the end may cut a connection that is still closing.
  pool.on('error', () => undefined);
  const at = clock.now();
  const main = await ensureOffice(pool, 'TPE-01', 'Taipei Da-an household registration office');
  const other = await ensureOffice(pool, 'KHH-01', 'Kaohsiung Lingya household registration office');
  const make = async (name: string, role: 'clerk' | 'supervisor' | 'operator' | 'auditor', officeId: string | null) =>
    (await createStaffWithToken(pool, { name, role, officeId }, at)).token;
  const tokens = {
    clerk: await make('Clerk Lin', 'clerk', main),
    otherOfficeClerk: await make('Clerk Chen', 'clerk', other),
    supervisor: await make('Supervisor Wu', 'supervisor', main),
    operator: await make('Operator Huang', 'operator', null),
    auditor: await make('Auditor Tsai', 'auditor', null),
  };

  let sequence = 0;
  return {
    url,
    app,
    clock,
    pool,
    databaseUrl: db.url,
    env,
    tokens,
    officeIds: { main, other },
    keysDir,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      if (method !== 'GET' && opts.idempotencyKey !== null) {
        headers['idempotency-key'] = opts.idempotencyKey ?? `test-${process.pid}-${Date.now()}-${++sequence}`;
      }
      const response = await fetch(url + path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: response.status, body, headers: response.headers };
    },
    async close() {
      await app.close();
      await pool.end();
      await db.drop();
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}

/** A valid application body for a card (national ID with a correct checksum, adult, fee paid). */
export function applicationBody(card: { cardNumber: string }, csrs: { signature: string; encryption: string }, overrides: Record<string, unknown> = {}) {
  return {
    applicant: { name: '王小明', nationalId: 'A123456789', dateOfBirth: '1990-05-17', mobile: '0912345678', email: 'wang@example.tw' },
    attestations: { idCardCheckedInPerson: true, householdRegistration: true, underGuardianship: false, feePaidNtd: 250 },
    userCode: 'Ab%123@x',
    cardNumber: card.cardNumber,
    publicationConsent: true,
    csrs,
    ...overrides,
  };
}
