/**
 * libs/platform: what the NestJS apps share (configuration, clock, logging,
 * health, problem details, database). Apps only; libs/policy and libs/pki
 * never import it.
 */
export * from './ca-key-ring';
export * from './clock';
export * from './config';
export * from './database';
export * from './health.controller';
export * from './http-app';
export * from './http-message-shapes';
export * from './key-opener';
export * from './logging';
export * from './national-id-vault';
export * from './user-code-hasher';
export * from './personal-data';
export * from './problem-details.filter';
export * from './public.decorator';
export * from './readiness';
export * from './tick-object-shape';
