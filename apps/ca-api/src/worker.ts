import '../../../tools/module-aliases';
import 'reflect-metadata';
import { Pool } from 'pg';
import pino from 'pino';
import type { Runner, TaskList } from 'graphile-worker';
import { ConfigurationError, keyOpenerFor, loadConfig, pinoOptions } from '@moica/platform';
import { auditChainCheckTask } from './jobs/audit-chain-check.task';
import { crlPublishTask } from './jobs/crl-publish.task';
import { crlTickTask } from './jobs/crl-tick.task';
import { noticeScanTask } from './jobs/notice-scan.task';
import { ocspRefreshTask } from './jobs/ocsp-refresh.task';
import { pendingLeftoverSweepTask } from './jobs/pending-leftover-sweep.task';
import { reissuanceExpiryTask } from './jobs/reissuance-expiry.task';
import { sendNoticeTask } from './jobs/send-notice.task';
import { notificationChannelsFromConfig } from './notifications/channels-from-config';
import { noticeTaskFor } from './notifications/notice-kinds';

/**
 * The background worker: graphile-worker on the CA's PostgreSQL, its own
 * process (never a side effect of the HTTP app). Several may run at once;
 * graphile-worker's row locking and job keys give each job to one of them.
 */
const CRONTAB = [
  // m h dom mon dow task ?options
  '0 3 * * * audit-chain-check ?max=3',
  // CRL schedules, slots and the late-CRL watchdog (docs/crl.md)
  '* * * * * crl-tick ?max=1&jobKey=crl-tick',
  // 01:00 UTC = 09:00 Taiwan: lifecycle notices arrive in the morning. fill=1d: a
  // worker that was down runs the missed scan at start, and the scan's cursor
  // covers the whole outage (docs/notices.md "Catch-up").
  '0 1 * * * notice-scan ?max=3&fill=1d&jobKey=notice-scan',
  // OCSP: re-sign pre-signed responses before half their validity, drop expired ones (docs/ocsp.md)
  '*/5 * * * * ocsp-refresh ?max=3&jobKey=ocsp-refresh-sweep',
  // Online re-issuance: unpaid orders expire at their payment deadline (docs/reissuance.md)
  '*/10 * * * * reissuance-expiry ?max=3&jobKey=reissuance-expiry',
  // Issuance: certificates left pending by a stopped issuance become abandoned after 2 minutes (docs/operations.md)
  '* * * * * pending-leftover-sweep ?max=3&jobKey=pending-leftover-sweep',
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
  pool.on('connect', (client) => client.on('error', (error) => logger.error({ err: error }, 'database client error')));
  const { channels, missing } = notificationChannelsFromConfig(config);
  const crlPublish = crlPublishTask(pool, config, keyOpenerFor(config), logger);
  const ocspRefresh = ocspRefreshTask(pool, config, keyOpenerFor(config), logger);
  const taskList: TaskList = {
    'audit-chain-check': auditChainCheckTask(pool),
    'crl-tick': crlTickTask(pool, config.clock, logger),
    'crl-publish': crlPublish,
    'ocsp-refresh': ocspRefresh,
    'notice-scan': noticeScanTask(pool, config.clock, { maxAttempts: config.NOTICE_MAX_ATTEMPTS }),
    'reissuance-expiry': reissuanceExpiryTask(pool, config.clock),
    'pending-leftover-sweep': pendingLeftoverSweepTask(pool, config.clock),
  };
  // A channel without configuration gets no task: its notice jobs wait, pending, until it is configured.
  const deliver = sendNoticeTask({ pool, channels, clock: config.clock });
  if (channels.configured.email) taskList[noticeTaskFor('email')] = deliver;
  if (channels.configured.sms) taskList[noticeTaskFor('sms')] = deliver;
  for (const name of missing) {
    logger.warn(`${name} is not set: ${name === 'SMTP_URL' ? 'e-mail' : 'SMS'} notices stay pending until it is (development only; required in production)`);
  }
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
    await crlPublish.close();
    await ocspRefresh.close();
    channels.close();
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
