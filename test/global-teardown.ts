import { Client } from 'pg';

/** Drops the databases this run created and stops the embedded server if one was started. */
export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.MOICA_TEST_ADMIN_URL;
  if (adminUrl) {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'moica_test_' || $1 || '_%'`,
      [process.env.MOICA_TEST_RUN_ID ?? 'none'],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await client.end();
  }
  const pg = (globalThis as { __MOICA_PG__?: { stop(): Promise<void> } }).__MOICA_PG__;
  if (pg) await pg.stop();
}
