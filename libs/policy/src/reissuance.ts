/**
 * Online re-issuance (線上換發), DOMAIN.md and leaflet (申辦資格): from 60
 * days before the 8-year cap (renewal period included) until 1 year after
 * it, only if the certificate was valid - neither revoked nor suspended - just
 * before it expired. Before expiry that means valid now (a suspended
 * certificate is resumed first); after expiry, the stored status must still
 * be valid: a certificate that expired while suspended stayed suspended to its
 * end. Requested online with a signature of the card's key. The new card's
 * certificates get a fresh 5-year validity from their production
 * (newCertificateValidity) and start on-hold-until-activated.
 */
import { cardLifetime, isWithin, type TimeWindow } from './card-lifetime';
import type { CertificateFacts } from './certificate-facts';
import { effectiveState, refusalForState } from './certificate-state';
import { allow, refuse, type Decision } from './decision';
import { channelPermits, type Channel } from './delegation';

/** The online re-issuance window: [cap - 60 days, issuedAt + 9 years). */
export function reissuanceWindow(cardIssuedAt: Date): TimeWindow {
  return cardLifetime(cardIssuedAt).reissuance;
}

/** Decides an online re-issuance application for the card of `certificate`. */
export function decideOnlineReissuance(
  certificate: CertificateFacts,
  channel: Channel,
  now: Date,
): Decision<{ window: TimeWindow }> {
  const permitted = channelPermits('online-reissuance', channel);
  if (!permitted.allowed) return permitted;
  const state = effectiveState(certificate, now);
  if (state === 'revoked') return refusalForState(state);
  const window = reissuanceWindow(certificate.cardIssuedAt);
  if (!isWithin(window, now)) {
    return now < window.opensAt
      ? refuse('reissuance-window-not-open', 'Online re-issuance opens 60 days before the 8-year limit.')
      : refuse('reissuance-window-closed', 'Online re-issuance closed 1 year after the 8-year limit; apply again in person.');
  }
  if (certificate.status === 'on-hold-until-activated') return refusalForState('on-hold-until-activated');
  if (state === 'expired' && certificate.status === 'suspended') {
    return refuse('suspended-at-expiry', 'The certificate was suspended when it expired; apply again in person.');
  }
  if (state !== 'valid' && state !== 'expired') return refusalForState(state);
  return allow({ window });
}
