import '../../tools/module-aliases';
/**
 * One publication of the bench CA's complete CRL, in its own process so its
 * peak RSS (getrusage maxrss) is the publication's own: started by
 * crl-benchmark.ts, prints its figures as one JSON line. Imports only what
 * the worker's publication path imports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { SoftwareSigner } from '@moica/pki';
import { loadCaForCrl, publishCrlScope } from '../../db/crl-publication';

async function main(): Promise<void> {
  const [url, workDir, passphrase, entriesLength, maxBufferedMb] = process.argv.slice(2);
  const pool = new Pool({ connectionString: url, max: 3 });
  const signer = SoftwareSigner.fromEncryptedPem('software:bench-crl-ca', readFileSync(join(workDir, 'ca.key'), 'utf8'), passphrase);
  const { rows } = await pool.query(`SELECT id FROM certificate_authority WHERE name = 'bench-crl'`);
  const ca = await loadCaForCrl(pool, rows[0].id);
  const publication = await pool.query(
    `INSERT INTO crl_publication (ca_id, kind, slot_at, trigger) VALUES ($1, 'complete', clock_timestamp(), 'manual') RETURNING id`,
    [ca.id],
  );
  const baselineRssMb = process.memoryUsage().rss / 1e6;
  const steps: Record<string, number> = {};
  let last = process.hrtime.bigint();
  const started = last;
  const summary = await publishCrlScope(
    {
      pool,
      ca,
      signer,
      publicBaseUrl: 'http://crl.bench.example.tw',
      now: new Date('2026-11-28T00:00:00Z'),
      validitySeconds: 129_600,
      publicationId: publication.rows[0].id,
      entriesLength: entriesLength === 'stream' ? 'stream' : 'snapshot-sum',
      maxBufferedBytes: maxBufferedMb ? Number(maxBufferedMb) * 1024 * 1024 : undefined,
      onStep: (step) => {
        const now = process.hrtime.bigint();
        steps[step] = Number(now - last) / 1e9;
        last = now;
      },
    },
    { kind: 'complete', partition: null },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await signer.close();
  await pool.end();
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      baselineRssMb,
      bytes: summary?.byteSize ?? 0,
      entries: summary?.entryCount ?? 0,
      steps,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
