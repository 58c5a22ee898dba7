/**
 * Issuance of holder certificates: PKCS#10 requests, key-quality checks,
 * the MOICA profile and the two-step prepare/issue of the Boulder model.
 */
export * from './rejection';
export * from './public-key';
export * from './allowed-key';
export * from './certification-request';
export * from './small-prime-factor';
export * from './fermat-factorisation';
export * from './roca-fingerprint';
export * from './shared-prime-index';
export * from './batch-gcd';
export * from './key-quality';
export * from './certificate-profile';
export * from './serial-number';
export * from './certificate-issuer';
export * from './issuance-request';
export * from './certificate-extensions';
export * from './tbs-certificate';
export * from './tbs-certificate-reader';
export * from './certificate-lint';
export * from './issuance-error';
export * from './prepare-certificate';
export * from './issue-certificate';
export * from './renewal';
export { bytesToBigInt, bigIntToBytes, gcd, isqrt, modPow, primesBelow } from './bigint-arithmetic';
