import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrateUp } from '../../db/data-source';

/**
 * A fresh, empty database on the run's server (DATABASE_URL or the embedded
 * one started by globalSetup), so suites never see each other's rows. Named
 * after the jest parent process so globalTeardown can drop the leftovers.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<{
  url: string;
  drop(): Promise<void>;
}> {
  const adminUrl = process.env.MOICA_TEST_ADMIN_URL;
  if (!adminUrl) throw new Error('MOICA_TEST_ADMIN_URL is not set: run the tests through `npm test` (jest globalSetup)');
  const name = `moica_test_${process.env.MOICA_TEST_RUN_ID ?? 'adhoc'}_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (options.migrate !== false) await migrateUp(url.toString());
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
