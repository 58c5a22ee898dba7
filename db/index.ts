/** db/: the TypeORM data source, entities, migrations and the audit chain. */
export * from './entities';
export * from './data-source';
export * from './audit-chain';
export { migrations } from './migrations';
