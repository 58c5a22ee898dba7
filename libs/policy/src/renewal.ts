/**
 * Renewal (展期), DOMAIN.md "Lifetime rules" and leaflet (MOICA 2種展期方式):
 * from 60 days before the 5-year expiry until 3 years after it, online with a
 * signature of the card's key or at any registration office (in person, or a
 * delegate bringing the card). The renewed certificate keeps the key and is
 * valid from the renewal instant to the card's 8-year cap.
 *
 * Refused when revoked; when the certificate is itself a renewal (a renewal
 * never extends another renewal); when the card awaits activation.
 * Suspended certificates: refused while suspended (the holder resumes first,
 * with the user code, then renews); a certificate that expired while suspended
 * is refused for good (suspended-at-expiry), as for online re-issuance: the
 * holder put the key on hold and it was never released before expiry, so it
 * is not extended; the holder applies again in person.
 */
import { cardLifetime, isWithin, type TimeWindow } from './card-lifetime';
import type { CertificateFacts } from './certificate-facts';
import { effectiveState, refusalForState } from './certificate-state';
import { refuse, type Decision } from './decision';
import { channelPermits, type Channel } from './delegation';
import { checkEightYearCap, type Validity } from './eight-year-cap';

/** The renewal window of a card: [5-year expiry - 60 days, issuedAt + 8 years). */
export function renewalWindow(cardIssuedAt: Date): TimeWindow {
  return cardLifetime(cardIssuedAt).renewal;
}

/** Decides a renewal and gives the renewed certificate's validity (notAfter = the 8-year cap). */
export function decideRenewal(certificate: CertificateFacts, channel: Channel, now: Date): Decision<{ validity: Validity }> {
  const permitted = channelPermits('renewal', channel);
  if (!permitted.allowed) return permitted;
  const state = effectiveState(certificate, now);
  if (state === 'revoked') return refusalForState(state);
  if (certificate.isRenewal) {
    return refuse('already-renewed', 'This certificate is already a renewal; it runs to the 8-year limit and cannot be renewed again.');
  }
  if (certificate.status === 'on-hold-until-activated') return refusalForState('on-hold-until-activated');
  const lifetime = cardLifetime(certificate.cardIssuedAt);
  if (!isWithin(lifetime.renewal, now)) {
    return now < lifetime.renewal.opensAt
      ? refuse('renewal-window-not-open', 'Renewal opens 60 days before the certificate\'s 5-year expiry.')
      : refuse('renewal-window-closed', 'Renewal closed 3 years after the 5-year expiry; apply again in person.');
  }
  if (state === 'expired' && certificate.status === 'suspended') {
    return refuse('suspended-at-expiry', 'The certificate was suspended when it expired; apply again in person.');
  }
  if (state !== 'valid' && state !== 'expired') return refusalForState(state);
  return checkEightYearCap(certificate.cardIssuedAt, { notBefore: now, notAfter: lifetime.capLastSecond });
}
