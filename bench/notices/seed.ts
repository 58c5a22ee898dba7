/**
 * Loads synthetic certificates for the notice benchmark (tools/synthetic-data.ts:
 * synthetic rows, no signed DER) into the database `moica_bench_notices` on
 * the server of DATABASE_URL (or into BENCH_DATABASE_URL), up to the count
 * asked for, then ANALYZEs.
 *
 * Run:  npm run build && DATABASE_URL=postgres://... node dist/bench/notices/seed.js [certificates=1000000]
 */
import '../../tools/module-aliases';
import { Pool } from 'pg';
import { seedSyntheticCertificates } from '../../tools/synthetic-data';
import { BENCH_AS_OF, benchDatabaseUrl } from './bench-database';

async function main(): Promise<void> {
  const target = Number(process.argv[2] ?? 1_000_000);
  const pool = new Pool({ connectionString: await benchDatabaseUrl(), max: 2 });
  try {
    const existing = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM certificate`)).rows[0].n;
    let total = existing;
    // In chunks of 200,000 certificates: one transaction each, bounded memory on the server.
    while (total < target) {
      const count = Math.min(200_000, target - total);
      const report = await seedSyntheticCertificates(pool, {
        count,
        revokedShare: 0.1,
        suspendedShare: 0.02,
        now: BENCH_AS_OF,
      });
      total += report.certificates;
      console.log(`+${report.certificates} certificates (${report.cards} cards) in ${report.seconds.toFixed(1)} s; ${total} in all`);
      if (report.certificates === 0) break;
    }
    await pool.query('ANALYZE');
    console.log(`${total} certificates as of ${BENCH_AS_OF.toISOString()}`);
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
