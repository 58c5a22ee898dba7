import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import { floorToSecond } from '@moica/policy';
import type { Clock } from '@moica/platform';
import { expireOverdueOrders, ReissuanceOrderRepository } from '../reissuance/reissuance-order.repository';

/**
 * Every 10 minutes: re-issuance orders whose payment deadline passed unpaid
 * become expired (docs/reissuance.md), each audited, in one transaction. A
 * payment that still arrives is recorded and flagged, never lost.
 */
export function reissuanceExpiryTask(pool: Pool, clock: Clock): Task {
  const orders = new ReissuanceOrderRepository();
  return async (_payload, helpers) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const expired = await expireOverdueOrders(client, orders, floorToSecond(clock.now()));
      await client.query('COMMIT');
      if (expired.length > 0) helpers.logger.info(`re-issuance orders expired unpaid: ${expired.join(', ')}`);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error('expiring unpaid re-issuance orders', { cause: error });
    } finally {
      client.release();
    }
  };
}
