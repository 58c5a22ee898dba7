/**
 * Typed errors of the two issuance steps. The API maps `code` to a response
 * in one exception filter (STYLE.md rule 1); `detail` never holds personal
 * data (DOMAIN.md: the national ID stays out of logs).
 */
import { LintFailure } from './certificate-lint';

export type IssuanceErrorCode =
  /** The key did not come from checkKeyQuality / checkRenewalKeyQuality. */
  | 'key-not-checked'
  /** A renewal was prepared with a key checked as new, or the reverse. */
  | 'key-check-mismatch'
  /** The key's type, size or curve is outside this CA's profile. */
  | 'key-not-in-profile'
  | 'holder-name-invalid'
  | 'holder-number-invalid'
  | 'national-id-excerpt-invalid'
  | 'email-invalid'
  /** The profile does not allow an e-mail SAN. */
  | 'email-not-allowed'
  | 'crl-partition-invalid'
  /** notBefore/notAfter not whole seconds, or notBefore not before notAfter. */
  | 'validity-invalid'
  /** notAfter after the 8-year cap (DOMAIN.md "Hard cap"). */
  | 'validity-exceeds-cap'
  /** notAfter after the issuing CA certificate's notAfter. */
  | 'validity-exceeds-issuer'
  /** The renewal's key or holder differs from the certificate being renewed. */
  | 'renewal-mismatch'
  /** The TBSCertificate failed the lint: nothing was signed. */
  | 'lint-failed'
  /** issueCertificate got an object prepareCertificate did not make. */
  | 'not-prepared'
  /** The prepared certificate was already signed (each is signed once). */
  | 'already-issued'
  /** The prepared TBS bytes were changed after the lint. */
  | 'tbs-modified'
  /** The signer's key or algorithm is not the issuer's. */
  | 'signer-mismatch'
  /** The signed certificate does not contain the linted TBS byte for byte. */
  | 'tbs-mismatch'
  /** The signature does not verify under the issuer's public key. */
  | 'signature-invalid';

export class IssuanceError extends Error {
  constructor(
    readonly code: IssuanceErrorCode,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
    this.name = 'IssuanceError';
  }
}

/** The lint refused the certificate; `failures` lists every failed rule. */
export class CertificateLintError extends IssuanceError {
  constructor(readonly failures: readonly LintFailure[]) {
    super('lint-failed', failures.map((failure) => `${failure.rule}: ${failure.detail}`).join('; '));
    this.name = 'CertificateLintError';
  }
}
