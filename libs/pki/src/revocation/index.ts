/**
 * Revocation encodings: CRLs (RFC 5280 §5) and OCSP (RFC 6960, RFC 5019,
 * RFC 8954), built for a national CA (10 million certificates, 1 million
 * revoked).
 */
export * from './crl-reason';
export * from './serial-number';
export * from './x509-time';
export * from './revocation-issuer';
export * from './crl-entry';
export * from './crl-extensions';
export * from './crl-builder';
export * from './ocsp-cert-id';
export * from './ocsp-request-parser';
export * from './ocsp-single-response';
export * from './ocsp-response-builder';
export * from './ocsp-error-responses';
