import { DataSource, DataSourceOptions } from 'typeorm';
import * as entities from './entities';
import { migrations } from './migrations';

/** All entity classes, for the data source and for Nest's TypeOrmModule-free wiring. */
export const entityClasses = Object.values(entities).filter((value) => typeof value === 'function');

/**
 * The TypeORM data source of the CA. The schema comes only from migrations
 * (never `synchronize`); `migrationsTransactionMode: 'each'` runs each one in
 * its own transaction.
 */
export function dataSourceOptions(url: string, applicationName = 'moica-ca'): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    applicationName,
    entities: entityClasses as DataSourceOptions['entities'],
    migrations,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: 20 },
  };
}

export function createDataSource(url: string, applicationName?: string): DataSource {
  return new DataSource(dataSourceOptions(url, applicationName));
}

/** Applies every pending migration. Returns the names applied. */
export async function migrateUp(url: string): Promise<string[]> {
  const ds = await createDataSource(url, 'moica-ca-migrate').initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/** Reverts the last `steps` migrations (all of them with Infinity). Returns how many were reverted. */
export async function migrateDown(url: string, steps = 1): Promise<number> {
  const ds = await createDataSource(url, 'moica-ca-migrate').initialize();
  let reverted = 0;
  try {
    while (reverted < steps) {
      const executed = await ds.query(`SELECT count(*)::int AS n FROM schema_migration`).catch(() => [{ n: 0 }]);
      if (executed[0].n === 0) break;
      await ds.undoLastMigration({ transaction: 'each' });
      reverted++;
    }
    return reverted;
  } finally {
    await ds.destroy();
  }
}
