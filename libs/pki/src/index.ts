/**
 * libs/pki: the cryptographic core (RFC 5280, RFC 6960, RFC 2986). Plain
 * TypeScript: no NestJS, no database, no clock reads (STYLE.md rule 1).
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect polyfill
export * from './oids';
export * from './signing';
export * from './card-keys';
export * from './ca';
export * from './revocation';
export * from './issuance';
