import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Clock } from '@moica/platform';
import { abandonPendingLeftovers, PENDING_LEFTOVER_SECONDS } from '../certificates/pending-certificate.repository';

/**
 * Every minute: certificates left 'pending' for more than
 * PENDING_LEFTOVER_SECONDS by an issuance that stopped between recording and
 * completing them become 'abandoned', with one audit record, in one
 * transaction (docs/operations.md). Younger ones may be an issuance in flight
 * on any ca-api instance and are left alone.
 */
export function pendingLeftoverSweepTask(pool: Pool, clock: Clock): Task {
  return async (_payload, helpers) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const abandoned = await abandonPendingLeftovers(client, clock.now());
      await client.query('COMMIT');
      if (abandoned.length > 0) {
        helpers.logger.warn(`abandoned ${abandoned.length} certificate(s) pending for more than ${PENDING_LEFTOVER_SECONDS} s: ${abandoned.join(', ')}`);
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error('abandoning pending certificate leftovers', { cause: error });
    } finally {
      client.release();
    }
  };
}
