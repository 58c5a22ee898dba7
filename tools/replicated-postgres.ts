import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort, postgresUser } from './embedded-postgres';

/**
 * A PostgreSQL primary and a hot-standby replica fed by PostgreSQL's own
 * streaming replication (pg_basebackup -R, then a standby on another port),
 * on 127.0.0.1, for the scale-out benchmark (bench/scale-out) and its
 * end-to-end test. Nothing home-made: the replica is exactly what an
 * operator would run (docs/operations.md).
 *
 * The binaries: the embedded-postgres package ships initdb and postgres but
 * not pg_basebackup, so the set comes from one folder that has all three,
 * the embedded package's first, then the system's (/usr/lib/postgresql/N/bin,
 * Debian's `postgresql` package), newest first. As root the servers run as
 * the `postgres` user (PostgreSQL refuses root); data folders live under the
 * system temp folder and are removed by `destroy()`.
 */
export interface PostgresServer {
  readonly name: 'primary' | 'replica';
  readonly port: number;
  readonly dataDir: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> (trust authentication, loopback only). */
  url(database?: string): string;
  readonly running: boolean;
  start(): Promise<void>;
  /** fast: roll back, checkpoint, exit (SIGINT); immediate: crash-like, WAL replay at next start (SIGQUIT). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

export interface ReplicatedPostgres {
  binDir: string;
  primary: PostgresServer;
  replica: PostgresServer;
  /** Milliseconds until the replica has replayed everything the primary has written so far. */
  replayLagMs(options?: { timeoutMs?: number }): Promise<number>;
  destroy(): Promise<void>;
}

const REQUIRED = ['initdb', 'postgres', 'pg_basebackup'];

/** A folder holding initdb, postgres and pg_basebackup of one PostgreSQL version; undefined when none does. */
export function findReplicationBinaries(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  try {
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    candidates.push(join(dirname(entry), '..', 'native', 'bin'));
  } catch {
    // the platform package is optional
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(join('/usr/lib/postgresql', version, 'bin'));
  }
  return candidates.find((dir) => REQUIRED.every((name) => existsSync(join(dir, name))));
}

export async function startReplicatedPostgres(options: { binDir?: string; log?: (line: string) => void } = {}): Promise<ReplicatedPostgres> {
  const binDir = options.binDir ?? findReplicationBinaries();
  if (!binDir) throw new Error(`no PostgreSQL binaries with ${REQUIRED.join(', ')} (set PG_BIN_DIR, or apt-get install postgresql)`);
  const user: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresUser() : {};
  const root = mkdtempSync(join(tmpdir(), 'moica-replication-'));
  chmodSync(root, 0o755);
  const own = (path: string) => {
    if (user.uid !== undefined && user.gid !== undefined) chownSync(path, user.uid, user.gid);
  };
  own(root);
  const run = (name: string, args: string[]) => {
    try {
      execFileSync(join(binDir, name), args, { ...user, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      throw new Error(`${name} ${args.join(' ')} failed: ${String((error as { stderr?: string }).stderr ?? error).slice(-2000)}`, { cause: error });
    }
  };

  const primaryDir = join(root, 'primary');
  const replicaDir = join(root, 'replica');
  // trust on loopback only (listen_addresses=127.0.0.1): initdb's default pg_hba also allows replication connections.
  run('initdb', [`--pgdata=${primaryDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C']);
  const primary = server('primary', primaryDir, await freePort(), binDir, user, options.log, [
    '-c', 'wal_level=replica',
    '-c', 'max_wal_senders=5',
    // The standby may be stopped for a while (the "replica down" fault): keep enough WAL for it to catch up.
    '-c', 'wal_keep_size=512MB',
  ]);
  await primary.start();
  run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast']);
  const replica = server('replica', replicaDir, await freePort(), binDir, user, options.log, [
    '-c', 'hot_standby=on',
    // Long OCSP reads are never cancelled in favour of replay for more than 5 s (replay wins, the read is retried).
    '-c', 'max_standby_streaming_delay=5s',
  ]);
  await replica.start();

  return {
    binDir,
    primary,
    replica,
    async replayLagMs({ timeoutMs = 30_000 } = {}) {
      const started = performance.now();
      const target = await queryOne<{ lsn: string }>(primary.url(), `SELECT pg_current_wal_lsn()::text AS lsn`);
      const client = new Client({ connectionString: replica.url() });
      await client.connect();
      try {
        while (performance.now() - started < timeoutMs) {
          const { rows } = await client.query<{ caught: boolean }>(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught`, [target.lsn]);
          if (rows[0].caught) return performance.now() - started;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      } finally {
        await client.end();
      }
      throw new Error(`the replica did not replay ${target.lsn} within ${timeoutMs} ms`);
    },
    async destroy() {
      await replica.stop('fast').catch(() => undefined);
      await primary.stop('fast').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function server(
  name: 'primary' | 'replica',
  dataDir: string,
  port: number,
  binDir: string,
  user: { uid?: number; gid?: number },
  log: ((line: string) => void) | undefined,
  settings: string[],
): PostgresServer {
  let child: ChildProcess | undefined;
  const self: PostgresServer = {
    name,
    port,
    dataDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (self.running) return;
      const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', ...settings];
      // Its own process group: a Ctrl-C in the terminal reaches the script, which stops the servers last.
      const started = spawn(join(binDir, 'postgres'), args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], ...user });
      child = started;
      let output = '';
      await new Promise<void>((ready, fail) => {
        const onData = (chunk: Buffer) => {
          output += String(chunk);
          log?.(`[${name}] ${String(chunk).trim()}`);
          if (/ready to accept (read-only )?connections/.test(output)) {
            started.stderr?.off('data', onData);
            started.stderr?.on('data', (more: Buffer) => log?.(`[${name}] ${String(more).trim()}`));
            ready();
          }
        };
        started.stderr?.on('data', onData);
        started.once('exit', (code) => fail(new Error(`${name} PostgreSQL exited during start-up (code ${code}): ${output.slice(-2000)}`)));
      });
      started.unref();
      (started.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    },
    async stop(mode = 'fast') {
      const current = child;
      if (!current || !self.running) return;
      current.ref();
      const exited = new Promise<void>((done) => current.once('exit', () => done()));
      current.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
      await exited;
      child = undefined;
    },
  };
  return self;
}

async function queryOne<T>(url: string, sql: string): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end();
  }
}
