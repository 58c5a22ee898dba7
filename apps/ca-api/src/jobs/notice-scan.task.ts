import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Clock } from '@moica/platform';
import { scanNotices } from '../notifications/notice-scan.service';

/**
 * Daily (crontab in worker.ts): create and queue the lifecycle notices that
 * became due since the last scan (docs/notices.md). `now` comes from the
 * injected Clock, so FAKE_CLOCK moves it in tests and demos.
 */
export function noticeScanTask(pool: Pool, clock: Clock, options: { maxAttempts: number }): Task {
  return async (_payload, helpers) => {
    const report = await scanNotices(pool, clock, { maxAttempts: options.maxAttempts });
    helpers.logger.info(
      `notice scan ${report.since?.toISOString() ?? '(first)'}..${report.until.toISOString()}: ` +
        `${report.certificatesExamined} certificates in ${report.batches} batches, ${report.due} due, ` +
        `${report.queued} queued, ${report.skipped} skipped as stale`,
    );
  };
}
