import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../tools/embedded-postgres';

/**
 * Tests use DATABASE_URL when it is set; otherwise this starts an embedded
 * PostgreSQL in a fresh temporary folder for the run. Each suite then makes
 * its own fresh database on that server (test/support/database.ts).
 */
export default async function globalSetup(): Promise<void> {
  process.env.MOICA_TEST_RUN_ID = `${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  if (process.env.DATABASE_URL) {
    process.env.MOICA_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = join(mkdtempSync(join(tmpdir(), 'moica-ca-test-')), 'pg');
  const pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  process.env.MOICA_TEST_ADMIN_URL = pg.url;
  (globalThis as { __MOICA_PG__?: { stop(): Promise<void> } }).__MOICA_PG__ = pg;
}
