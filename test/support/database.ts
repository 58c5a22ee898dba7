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
      // Connections still closing (a pool's end() or an app's shutdown in flight) are given a moment:
      // WITH (FORCE) would terminate them, and a pg client without an error listener turns that into
      // an uncaught "terminating connection due to administrator command" in the suite.
      for (let waited = 0; ; waited += 100) {
        const { rows } = await client.query(`SELECT count(*)::int AS n, string_agg(DISTINCT application_name, ', ') AS apps FROM pg_stat_activity WHERE datname = $1`, [name]);
        if (rows[0].n === 0) break;
        if (waited >= 3000) {
          console.warn(`dropping ${name} with ${rows[0].n} connection(s) still open (${rows[0].apps || 'no application_name'}): a suite leaks a pool`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
