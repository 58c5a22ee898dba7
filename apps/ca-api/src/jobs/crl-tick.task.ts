import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Clock } from '@moica/platform';
import { crlTick } from '../../../../db/crl-schedule';

/**
 * crl-tick (crontab, every minute; graphile-worker runs each minute once
 * whatever the number of workers): requests each schedule's latest slot
 * exactly once, and alerts on late CRLs (`alert: "crl-late"`) with a
 * recovery publication, well before their nextUpdate (docs/crl.md).
 */
export function crlTickTask(pool: Pool, clock: Clock, logger: Logger): Task {
  return async () => {
    const result = await crlTick(pool, clock.now());
    for (const slot of result.enqueued) {
      logger.info({ caId: slot.caId, kind: slot.kind, slot: slot.slotAt.toISOString(), publicationId: slot.id }, 'CRL publication requested');
    }
    for (const late of result.late) {
      logger.error(
        {
          alert: 'crl-late',
          caId: late.caId,
          ca: late.caName,
          kind: late.kind,
          partition: late.partition,
          thisUpdate: late.thisUpdate?.toISOString() ?? null,
          nextUpdate: late.nextUpdate?.toISOString() ?? null,
        },
        'CRL is late: no new CRL within its period; recovery requested',
      );
    }
    for (const recovery of result.recoveries) {
      logger.warn({ caId: recovery.caId, kind: recovery.kind, publicationId: recovery.id }, 'CRL recovery publication requested');
    }
  };
}
