/**
 * The daily notice scan on a large certificate table (issue 8: "with
 * 1,000,000 certificates it finds the due ones in under 10 seconds").
 *
 * Run:  npm run build && DATABASE_URL=postgres://... node dist/bench/notices/seed.js 1000000
 *       DATABASE_URL=postgres://... node dist/bench/notices/scan.js [runs=5]
 *
 * Measured, each at `runs` consecutive days after the data's as-of instant
 * (medians):
 * - find, daily: read the notAfter ranges of one day's span through the
 *   index and decide every row with the policy (scanNotices, dryRun);
 * - find, first scan: no cursor, everything due now (looks back years);
 * - find + queue, daily: the same, writing the notices and their jobs
 *   (removed again afterwards, so the run can be repeated).
 */
import '../../tools/module-aliases';
import { Pool } from 'pg';
import { FakeClock } from '../../libs/platform/src/clock';
import { prepareJobQueue } from '../../apps/ca-api/src/notifications/job-queue';
import { scanNotices, type NoticeScanReport } from '../../apps/ca-api/src/notifications/notice-scan.service';
import { BENCH_AS_OF, benchDatabaseUrl } from './bench-database';

const DAY = 86_400_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(run: () => Promise<NoticeScanReport>): Promise<{ seconds: number; report: NoticeScanReport }> {
  const started = process.hrtime.bigint();
  const report = await run();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, report };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const pool = new Pool({ connectionString: await benchDatabaseUrl(), max: 4 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  await prepareJobQueue(pool);
  const certificates = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM certificate`)).rows[0].n;
  console.log(`${certificates} certificates; PostgreSQL ${(await pool.query(`SHOW server_version`)).rows[0].server_version}`);
  const results: Record<string, Array<{ seconds: number; report: NoticeScanReport }>> = {
    'find, daily': [],
    'find + queue, daily': [],
    'find, first scan': [],
    'find, first scan, 90-day batches': [],
  };
  for (let day = 1; day <= runs; day++) {
    const until = new Date(BENCH_AS_OF.getTime() + day * DAY);
    const since = new Date(until.getTime() - DAY);
    const clock = new FakeClock({ fixed: until });
    results['find, daily'].push(await timed(() => scanNotices(pool, clock, { since, dryRun: true })));
    results['find + queue, daily'].push(await timed(() => scanNotices(pool, clock, { since })));
    await pool.query(`DELETE FROM graphile_worker._private_jobs WHERE key LIKE 'notice:%'`);
    await pool.query(`TRUNCATE notice, notice_scan`);
  }
  for (let day = 1; day <= Math.min(runs, 3); day++) {
    const clock = new FakeClock({ fixed: new Date(BENCH_AS_OF.getTime() + day * DAY) });
    results['find, first scan'].push(await timed(() => scanNotices(pool, clock, { since: null, dryRun: true })));
    results['find, first scan, 90-day batches'].push(
      await timed(() => scanNotices(pool, clock, { since: null, dryRun: true, sliceDays: 90 })),
    );
  }
  console.log('| scan | median s | max s | certificates read | notices due (median) |');
  console.log('|---|---|---|---|---|');
  for (const [name, samples] of Object.entries(results)) {
    const seconds = samples.map((sample) => sample.seconds);
    console.log(
      `| ${name} | ${median(seconds).toFixed(3)} | ${Math.max(...seconds).toFixed(3)} | ` +
        `${median(samples.map((sample) => sample.report.certificatesExamined))} | ${median(samples.map((sample) => sample.report.due))} |`,
    );
  }
  await pool.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
