import type { Pool } from 'pg';

/**
 * Installs or upgrades graphile-worker's schema (graphile_worker.*), which
 * enqueueNotice needs for `graphile_worker.add_job`. The worker does this at
 * start; ca-api may call it at boot so it can enqueue before a worker ran.
 */
export async function prepareJobQueue(pool: Pool): Promise<void> {
  // graphile-worker is ESM-only; require(esm) loads it from CommonJS on Node 24.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runMigrations } = require('graphile-worker') as typeof import('graphile-worker');
  await runMigrations({ pgPool: pool });
}
