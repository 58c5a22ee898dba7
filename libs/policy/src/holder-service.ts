/**
 * The holder services that do not change the certificate's status (DOMAIN.md
 * delegation table): user code reset, contact data and publication status
 * changes, and adding the e-mail to a new certificate (rfc822Name, DOMAIN.md
 * "The e-mail address is not written into the certificate by default").
 * Nothing is allowed on a revoked certificate. Resetting the user code and
 * changing contact data stay allowed after expiry, since the card may still
 * be renewed or re-issued; adding the e-mail issues a certificate, so it needs
 * a valid one.
 */
import type { CertificateFacts } from './certificate-facts';
import { effectiveState, refusalForState } from './certificate-state';
import { allow, type Decision } from './decision';
import { channelPermits, type Channel } from './delegation';
import { checkEightYearCap, type Validity } from './eight-year-cap';

/** A holder service operation. */
export type HolderServiceOperation =
  | 'user-code-reset'
  | 'change-mobile-number'
  | 'change-publication-status'
  | 'change-contact-email'
  | 'add-email-to-certificate';

/** Decides a holder service: channel, then certificate state. */
export function decideHolderService(
  operation: HolderServiceOperation,
  certificate: CertificateFacts,
  channel: Channel,
  now: Date,
): Decision {
  const permitted = channelPermits(operation, channel);
  if (!permitted.allowed) return permitted;
  const state = effectiveState(certificate, now);
  if (state === 'revoked') return refusalForState(state);
  if (operation === 'add-email-to-certificate' && state !== 'valid') return refusalForState(state);
  return allow();
}

/**
 * The validity of the certificate that adds the e-mail: from `now` to the
 * replaced certificate's notAfter, through the 8-year cap.
 */
export function emailCertificateValidity(certificate: CertificateFacts, now: Date): Decision<{ validity: Validity }> {
  return checkEightYearCap(certificate.cardIssuedAt, { notBefore: now, notAfter: certificate.notAfter });
}
