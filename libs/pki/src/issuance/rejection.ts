/**
 * Reason codes for refusing a certificate request or a key. They are stable
 * identifiers: the API maps them to responses and the audit log records them,
 * so existing codes are never renamed (STYLE.md rule 1: typed decisions).
 */

/** Why a PKCS#10 request (RFC 2986) was refused. */
export type CsrRejectionCode =
  /** Not a DER/PEM CertificationRequest (RFC 2986 §4). */
  | 'csr-malformed'
  /** CertificationRequestInfo.version is not v1 (0), RFC 2986 §4.1. */
  | 'csr-version-unsupported'
  /** The signature BIT STRING is empty: no proof of possession. */
  | 'csr-unsigned'
  /** The request is signed with an algorithm this CA does not accept, or one that does not fit the key. */
  | 'csr-signature-algorithm-not-allowed'
  /** The signature does not verify under the request's own key (RFC 2986 §3 step 3: proof of possession fails). */
  | 'csr-signature-invalid';

/** Why a public key was refused (by its form or by its quality). */
export type KeyRejectionCode =
  /** The SubjectPublicKeyInfo cannot be decoded (RFC 5280 §4.1.2.7, RFC 3279 §2.3). */
  | 'key-malformed'
  /** Neither RSA nor ECDSA on P-256/P-384 (DOMAIN.md, the profile). */
  | 'key-algorithm-not-allowed'
  /** RSA modulus not of 2048, 3072 or 4096 bits. */
  | 'key-size-not-allowed'
  /** RSA public exponent even, below 65537 or above 2^256 - 1. */
  | 'key-exponent-not-allowed'
  /** EC point not uncompressed or not on the named curve (RFC 5480 §2.2, SEC 1 §3.2.2). */
  | 'key-point-invalid'
  /** The RSA modulus has a prime factor below the trial-division bound. */
  | 'key-small-prime-factor'
  /** The RSA primes are so close that Fermat's method factors the modulus. */
  | 'key-primes-too-close'
  /** The modulus carries the ROCA fingerprint (CVE-2017-15361, Infineon RSALib). */
  | 'key-roca-fingerprint'
  /** The same public key is already certified (for another holder or card). */
  | 'key-already-in-use'
  /** The modulus shares a prime with a modulus this CA already certified (the 2013 Taiwan citizen-card failure). */
  | 'key-shared-prime';

/** A refusal with its code and a human-readable detail (never containing personal data). */
export interface Rejection<Code extends string> {
  readonly ok: false;
  readonly code: Code;
  readonly detail: string;
}

/** Builds a {@link Rejection}. */
export function reject<Code extends string>(code: Code, detail: string): Rejection<Code> {
  return { ok: false, code, detail };
}
