import '../../../tools/module-aliases';
import 'reflect-metadata';
import { Pool } from 'pg';
import pino from 'pino';
import type { Runner, TaskList } from 'graphile-worker';
import { ConfigurationError, loadConfig, pinoOptions } from '@moica/platform';
import { auditChainCheckTask } from './jobs/audit-chain-check.task';

/**
 * The background worker: graphile-worker on the CA's PostgreSQL, its own
 * process (never a side effect of the HTTP app). Several may run at once;
 * graphile-worker's row locking and job keys give each job to one of them.
 */
const CRONTAB = [
  // m h dom mon dow task ?options
  '0 3 * * * audit-chain-check ?max=3',
].join('\n');

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino(pinoOptions('worker', config.LOG_LEVEL));
  // graphile-worker is ESM-only; require(esm) loads it from CommonJS on Node 24.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { run, Logger: WorkerLogger } = require('graphile-worker') as typeof import('graphile-worker');
  const pool = new Pool({ connectionString: config.DATABASE_URL, application_name: 'moica-ca-worker', max: 10 });
  // An idle client's connection may drop (database restart): log it; the pool reconnects on next use.
  pool.on('error', (error) => logger.error({ err: error }, 'database connection lost'));
  const taskList: TaskList = {
    'audit-chain-check': auditChainCheckTask(pool),
  };
  const workerLogger = new WorkerLogger((scope) => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'debug' ? 'debug' : 'info';
    logger[method]({ scope, ...meta }, message);
  });
  const runner: Runner = await run({
    pgPool: pool,
    concurrency: 4,
    taskList,
    crontab: CRONTAB,
    logger: workerLogger,
    noHandleSignals: true,
    pollInterval: 2000,
  });
  logger.info({ tasks: Object.keys(taskList) }, 'worker started');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'worker stopping');
    await runner.stop();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await runner.promise;
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exit(1);
});
