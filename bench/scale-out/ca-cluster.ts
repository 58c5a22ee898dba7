import '../../tools/module-aliases';
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, Pool } from 'pg';
import { migrateUp } from '../../db/data-source';
import { createStaffWithToken, ensureOffice } from '../../apps/ca-api/src/auth/staff-provisioning';
import { startTestSmsGateway, startTestSmtpServer, type ReceivedEmail } from '../../apps/ca-api/src/notifications/testing/message-receivers';
import { ensureDevelopmentHierarchy } from '../../tools/dev-ca';
import { freePort } from '../../tools/embedded-postgres';
import { startReplicatedPostgres, type ReplicatedPostgres } from '../../tools/replicated-postgres';

/**
 * The scale-out topology of docs/operations.md on one machine (issue 11):
 * a PostgreSQL primary and a streaming hot-standby replica, one ca-api and
 * the workers writing to the primary, OCSP responders reading the replica
 * (DATABASE_READ_URL) and LISTENing on the primary (DATABASE_URL; NOTIFY
 * is not delivered on a standby), a real SMTP server and SMS gateway
 * receiver counting every message. The apps are the compiled processes
 * (dist/), each started, killed and restarted like a real deployment.
 */
export interface AppProcess {
  readonly name: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  output(): string;
  start(): Promise<void>;
  /** SIGTERM (graceful) or SIGKILL (crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Resident set size in MiB (Linux /proc), undefined when not running. */
  rssMb(): number | undefined;
  /** Exits nobody asked for (a crash), with the end of the output. */
  readonly unexpectedExits: Array<{ code: number | null; signal: string | null; tail: string }>;
}

export interface CaCluster {
  pg: ReplicatedPostgres;
  databaseName: string;
  primaryUrl: string;
  replicaUrl: string;
  caApi: AppProcess;
  caApiUrl: string;
  responders: AppProcess[];
  responderUrls: string[];
  workers: AppProcess[];
  tokens: { clerk: string; operator: string };
  issuingCaId: string;
  issuingCaName: string;
  issuingCaDer: Uint8Array;
  emails: ReceivedEmail[];
  /** Every SMS the gateway was sent, duplicates included (the gateway itself drops duplicates by clientid). */
  smsClientIds: string[];
  /** A pool on the primary for checks (max 3). */
  primary: Pool;
  stop(): Promise<void>;
}

export interface CaClusterOptions {
  responders?: number;
  workers?: number;
  log?: (line: string) => void;
  /** Extra environment of every app (e.g. OCSP_RESPONSE_VALIDITY_HOURS). */
  env?: Record<string, string>;
}

/** The repository root (the folder with package.json), from source (ts-jest) or from dist/. */
export function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'tsconfig.build.json')) === false) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

export async function startCaCluster(options: CaClusterOptions = {}): Promise<CaCluster> {
  const log = options.log ?? (() => undefined);
  const root = repositoryRoot();
  const pg = await startReplicatedPostgres({});
  const stops: Array<() => Promise<unknown>> = [() => pg.destroy()];
  const scratch = mkdtempSync(join(tmpdir(), 'moica-scale-out-'));
  stops.push(async () => rmSync(scratch, { recursive: true, force: true }));
  try {
    const databaseName = 'moica';
    const admin = new Client({ connectionString: pg.primary.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    await admin.end();
    const primaryUrl = pg.primary.url(databaseName);
    const replicaUrl = pg.replica.url(databaseName);
    await migrateUp(primaryUrl);

    const passphrase = randomBytes(12).toString('hex');
    const responderPorts = await Promise.all(Array.from({ length: options.responders ?? 2 }, () => freePort()));
    const publicBaseUrl = `http://127.0.0.1:${responderPorts[0]}`;
    const hierarchy = await ensureDevelopmentHierarchy({
      databaseUrl: primaryUrl,
      keysDir: join(scratch, 'keys'),
      passphrase,
      publicBaseUrl,
      now: new Date(Date.now() - 3600_000),
      rootKey: { kind: 'EC', curve: 'P-384' },
      issuingKey: { kind: 'RSA', modulusBits: 2048 },
      ocspKey: { kind: 'EC', curve: 'P-256' },
    });
    const primary = new Pool({ connectionString: primaryUrl, max: 3 });
    primary.on('error', () => undefined); // the primary is restarted on purpose
    stops.push(() => primary.end());
    const office = await ensureOffice(primary, 'SCALE-01', 'scale-out office');
    const now = new Date();
    const clerk = (await createStaffWithToken(primary, { name: 'Scale clerk', role: 'clerk', officeId: office }, now)).token;
    const operator = (await createStaffWithToken(primary, { name: 'Scale operator', role: 'operator', officeId: null }, now)).token;
    const { rows } = await primary.query<{ id: string; name: string; der: Buffer }>(
      `SELECT id, name, certificate_der AS der FROM certificate_authority WHERE id = $1`,
      [hierarchy.issuingCaId],
    );
    if (!rows[0]) throw new Error('no issuing CA after ensureDevelopmentHierarchy');

    const smtp = await startTestSmtpServer();
    stops.push(() => smtp.close());
    const sms = await startTestSmsGateway();
    stops.push(() => sms.close());
    const smsClientIds: string[] = [];
    sms.setAnswer((message) => {
      smsClientIds.push(message.clientid);
      return null;
    });

    const baseEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: primaryUrl,
      PII_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PII_HMAC_KEY: randomBytes(32).toString('base64'),
      SOFTWARE_KEY_PASSPHRASE: passphrase,
      USER_CODE_SCRYPT_LOG2N: '14',
      PUBLIC_BASE_URL: publicBaseUrl,
      SMTP_URL: smtp.url,
      SMTP_FROM: 'MOICA scale-out <noreply@example.tw>',
      SMS_GATEWAY_URL: sms.url,
      SMS_GATEWAY_USERNAME: 'scale',
      SMS_GATEWAY_PASSWORD: 'scale',
      ...(options.env ?? {}),
    };
    const caApiPort = await freePort();
    const caApi = appProcess('ca-api', join(root, 'dist/apps/ca-api/src/main.js'), { ...baseEnv, CA_API_PORT: String(caApiPort) }, log);
    stops.push(() => caApi.stop('SIGTERM'));
    await caApi.start();
    await waitReady(`http://127.0.0.1:${caApiPort}/readyz`, caApi);

    const workers = Array.from({ length: options.workers ?? 3 }, (_, i) =>
      // info: the worker says "worker started" once its task list and crontab are registered.
      // graphile-worker exits when it cannot record a job's failure (database gone): like systemd's
      // Restart=always RestartSec=2 (docs/operations.md), the cluster starts it again.
      appProcess(`worker-${i + 1}`, join(root, 'dist/apps/ca-api/src/worker.js'), { ...baseEnv, LOG_LEVEL: 'info' }, log, undefined, 2000),
    );
    for (const worker of workers) stops.push(() => worker.stop('SIGTERM'));
    await Promise.all(workers.map(async (worker) => {
      await worker.start();
      await worker.waitFor(/worker started/);
    }));

    const responders = responderPorts.map((port, i) =>
      appProcess(
        `ocsp-responder-${i + 1}`,
        join(root, 'dist/apps/ocsp-responder/src/main.js'),
        { ...baseEnv, DATABASE_READ_URL: replicaUrl, OCSP_PORT: String(port) },
        log,
        `http://127.0.0.1:${port}/readyz`,
      ),
    );
    for (const responder of responders) stops.push(() => responder.stop('SIGTERM'));
    await Promise.all(responders.map((responder) => responder.start()));

    return {
      pg,
      databaseName,
      primaryUrl,
      replicaUrl,
      caApi,
      caApiUrl: `http://127.0.0.1:${caApiPort}`,
      responders,
      responderUrls: responderPorts.map((port) => `http://127.0.0.1:${port}`),
      workers,
      tokens: { clerk, operator },
      issuingCaId: rows[0].id,
      issuingCaName: rows[0].name,
      issuingCaDer: new Uint8Array(rows[0].der),
      emails: smtp.received,
      smsClientIds,
      primary,
      async stop() {
        for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop: ${String(error)}`));
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

type StartableProcess = AppProcess & { waitFor(pattern: RegExp, timeoutMs?: number): Promise<void> };

/** A compiled app as a child process that can be stopped and started again; `readyUrl` is polled on start. */
function appProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  log: (line: string) => void,
  readyUrl?: string,
  restartAfterMs?: number,
): StartableProcess {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  let child: ChildProcess | undefined;
  let output = '';
  let stopping = false;
  let shutDown = false;
  const self: StartableProcess = {
    name,
    unexpectedExits: [],
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    output: () => output,
    async start() {
      if (self.running) return;
      output = '';
      const started = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      const collect = (chunk: Buffer) => {
        const text = String(chunk);
        output = (output + text).slice(-200_000);
        for (const line of text.split('\n')) if (line.trim()) log(`[${name}] ${line}`);
      };
      started.stdout?.on('data', collect);
      started.stderr?.on('data', collect);
      started.once('exit', (code, signal) => {
        if (stopping) return;
        self.unexpectedExits.push({ code, signal, tail: output.slice(-3000) });
        if (restartAfterMs !== undefined && !shutDown) setTimeout(() => void (shutDown ? undefined : self.start().catch((error: unknown) => log(`[${name}] restart failed: ${String(error)}`))), restartAfterMs);
      });
      if (readyUrl) await waitReady(readyUrl, self);
    },
    async stop(signal = 'SIGTERM') {
      if (signal === 'SIGTERM') shutDown = true;
      const current = child;
      if (!current || !self.running) return;
      const exited = new Promise<void>((done) => current.once('exit', () => done()));
      const timer = setTimeout(() => current.kill('SIGKILL'), 15_000);
      stopping = true;
      current.kill(signal);
      await exited;
      stopping = false;
      clearTimeout(timer);
    },
    rssMb() {
      if (!child?.pid || !self.running) return undefined;
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Number(kb) / 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((done, fail) => {
        const check = () => {
          if (pattern.test(output)) return done();
          if (!self.running) return fail(new Error(`${name} exited before ${pattern}: ${output.slice(-3000)}`));
          if (Date.now() > deadline) return fail(new Error(`${name}: timed out waiting for ${pattern}: ${output.slice(-3000)}`));
          setTimeout(check, 100);
        };
        check();
      });
    },
  };
  return self;
}

async function waitReady(url: string, app: AppProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!app.running) throw new Error(`${app.name} exited during start-up: ${app.output().slice(-3000)}`);
    try {
      const response = await fetch(url);
      last = await response.text();
      if (response.ok) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${app.name} not ready at ${url} after ${timeoutMs} ms: ${last}\n${app.output().slice(-3000)}`);
}
