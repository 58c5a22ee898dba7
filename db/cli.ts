/**
 * `npm run migration:run` / `npm run migration:revert [steps|all]`: applies
 * or reverts migrations on DATABASE_URL.
 */
import 'reflect-metadata';
import { migrateDown, migrateUp } from './data-source';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: say which PostgreSQL to migrate');
  const [command, arg] = process.argv.slice(2);
  if (command === 'up') {
    const applied = await migrateUp(url);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } else if (command === 'down') {
    const steps = arg === 'all' ? Infinity : Number(arg ?? 1);
    console.log(`reverted ${await migrateDown(url, steps)} migration(s)`);
  } else {
    throw new Error(`unknown command "${command}": use up | down [steps|all]`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
