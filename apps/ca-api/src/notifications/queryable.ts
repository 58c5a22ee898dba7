/**
 * Anything that runs SQL with positional parameters (a pg Pool or client, a
 * TypeORM EntityManager or QueryRunner), and the rows of its result: the one
 * definition in db/audit-chain.ts, re-exported for the notice modules.
 */
export { queryRows, type Queryable } from '@moica/db';
