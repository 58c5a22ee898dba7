import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import { verifyAuditChain } from '@moica/db';

/**
 * Daily: re-verify the whole audit hash chain and log the verdict. A broken
 * chain fails the job, so it shows among failed jobs and is retried (and
 * alerts) until an operator looks.
 */
export function auditChainCheckTask(pool: Pool): Task {
  return async (_payload, helpers) => {
    const verdict = await verifyAuditChain(pool);
    if (!verdict.intact) {
      throw new Error(`audit chain broken at row ${verdict.brokenAt} (${verdict.problem}) after ${verdict.checked} intact rows`);
    }
    helpers.logger.info(`audit chain intact: ${verdict.checked} rows, last id ${verdict.lastId ?? '-'}`);
  };
}
