/**
 * What the policy needs to know about a certificate. The stored status is one
 * of four; expiry is never stored, it is derived from `notAfter` and `now`
 * (certificate-state.ts). Both certificates of a card (signature and
 * encryption) share these facts.
 */
import type { RevocationReason } from './revocation-reason';

/**
 * The stored status of a certificate:
 * - on-hold-until-activated: on a card produced by online re-issuance and
 *   mailed, until the holder activates it online (開卡); published as
 *   certificateHold meanwhile, so that a card lost in the post is useless;
 * - valid; suspended (停用, certificateHold); revoked (廢止, final).
 */
export type CertificateStatus = 'on-hold-until-activated' | 'valid' | 'suspended' | 'revoked';

/** Who suspended a certificate: the holder (any holder channel) or a court/prosecutor. */
export type SuspensionAuthority = 'holder' | 'court-order';

/** The facts of one certificate that lifecycle decisions depend on. */
export interface CertificateFacts {
  /** When the card's first certificate was issued: anchor of the 5-year expiry and the 8-year cap. */
  readonly cardIssuedAt: Date;
  readonly notBefore: Date;
  /** Last second of validity, inclusive (RFC 5280 §4.1.2.5). */
  readonly notAfter: Date;
  readonly status: CertificateStatus;
  /** Set when status is 'suspended'; null otherwise. */
  readonly suspendedBy: SuspensionAuthority | null;
  /** Set when status is 'revoked'; null otherwise. */
  readonly revocationReason: RevocationReason | null;
  /** True for a certificate produced by renewal (展期): it is never renewed again. */
  readonly isRenewal: boolean;
}
