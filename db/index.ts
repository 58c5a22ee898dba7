/** db/: the TypeORM data source, entities, migrations and the audit chain. */
export * from './entities';
export * from './data-source';
export * from './audit-chain';
export { inTransaction, type TransactionOptions } from './transaction';
export { migrations } from './migrations';
export {
  announceStatusChange,
  CERTIFICATE_STATUS_CHANNEL,
  OCSP_REFRESH_TASK,
  parseCertificateStatusNotice,
  type CertificateStatusNotice,
} from './certificate-status-change';
