/**
 * What CRLs and OCSP publish for a certificate at an instant (DOMAIN.md: "In
 * CRLs and OCSP a suspended certificate is revoked with reason
 * certificateHold; resuming removes it ... and OCSP answers good again";
 * RFC 5280 §5.3.1, RFC 6960 §2.2). A card awaiting online activation is
 * published as certificateHold too, so a card lost in the post cannot be used.
 * A suspension lasts at most until expiry: an expired, suspended certificate
 * is no longer on hold. A revoked certificate stays revoked after expiry
 * (whether an expired entry is kept in a CRL is the CRL issuer's choice).
 */
import type { CertificateFacts } from './certificate-facts';
import { effectiveState } from './certificate-state';
import type { CrlReason } from './revocation-reason';

/** The revocation status relying parties see (OCSP CertStatus, CRL entry). */
export type RevocationStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly reason: Exclude<CrlReason, 'removeFromCRL'> };

/** The status to publish for `certificate` at `now`. */
export function revocationStatus(certificate: CertificateFacts, now: Date): RevocationStatus {
  const state = effectiveState(certificate, now);
  if (state === 'revoked') return { status: 'revoked', reason: certificate.revocationReason ?? 'unspecified' };
  if (state === 'suspended' || state === 'on-hold-until-activated') return { status: 'revoked', reason: 'certificateHold' };
  return { status: 'good' };
}
