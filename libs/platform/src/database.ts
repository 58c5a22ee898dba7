import { DataSource } from 'typeorm';
import { createDataSource } from '@moica/db';
import { ReadinessCheck } from './readiness';

/** Opens the TypeORM data source, with a message that names the server on failure (never its password). */
export async function openDatabase(url: string, applicationName: string): Promise<DataSource> {
  try {
    return await createDataSource(url, applicationName).initialize();
  } catch (cause) {
    const safe = new URL(url);
    safe.password = safe.password ? '***' : '';
    throw new Error(`cannot connect to PostgreSQL at ${safe.toString()}`, { cause });
  }
}

/** Readiness: the database answers and the schema is migrated. */
export class DatabaseReadiness implements ReadinessCheck {
  readonly name = 'database';
  constructor(private readonly dataSource: DataSource) {}

  async check(): Promise<string> {
    const rows: Array<{ n: number }> = await this.dataSource.query(`SELECT count(*)::int AS n FROM schema_migration`);
    const pending = this.dataSource.migrations.length - rows[0].n;
    if (pending > 0) throw new Error(`${pending} migration(s) not applied`);
    return `${rows[0].n} migrations applied`;
  }
}
