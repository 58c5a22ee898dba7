import { Client } from 'pg';
import { migrateUp } from '../../db/data-source';

/** The benchmark's own database on the server of DATABASE_URL (created and migrated when absent). */
export async function benchDatabaseUrl(): Promise<string> {
  const explicit = process.env.BENCH_DATABASE_URL;
  if (explicit) {
    await migrateUp(explicit);
    return explicit;
  }
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('set DATABASE_URL (a server to create moica_bench_notices on) or BENCH_DATABASE_URL');
  const url = new URL(server);
  url.pathname = '/moica_bench_notices';
  const admin = new Client({ connectionString: server });
  await admin.connect();
  const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'moica_bench_notices'`);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE moica_bench_notices`);
  await admin.end();
  await migrateUp(url.toString());
  return url.toString();
}

/** The instant the synthetic data is "as of", and the scans run around. */
export const BENCH_AS_OF = new Date('2031-06-01T01:00:00Z');
