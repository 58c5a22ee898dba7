/**
 * Card unlock (鎖卡解碼, DOMAIN.md: "Three wrong PINs lock the card; the user
 * code unlocks it and sets a new PIN"). Whether the CA answers a card's
 * unblock challenge, given the card's certificates. The user code itself is
 * checked like every online user-code operation, before this rule.
 *
 * - A card all of whose certificates are revoked is refused (`card-revoked`):
 *   revocation is final and the card is of no further use.
 * - Otherwise the card is unlocked whatever the certificates' state: a
 *   suspended card needs its PIN to be resumed usefully, an expired one to be
 *   renewed online (renewal is signed by the card up to 3 years after
 *   expiry), a mailed re-issued card to be activated (開卡).
 */
import type { CertificateFacts } from './certificate-facts';
import { allow, refuse, type Decision } from './decision';

/** Decides whether a card with these certificates may be unlocked online. `now` is for symmetry with the other rules. */
export function decideCardUnlock(certificates: readonly CertificateFacts[], _now: Date): Decision {
  if (certificates.length > 0 && certificates.every((certificate) => certificate.status === 'revoked')) {
    return refuse('card-revoked', 'Every certificate of this card is revoked; a revoked card is not unlocked.');
  }
  return allow();
}
