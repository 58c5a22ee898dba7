/**
 * The 8-year hard cap (DOMAIN.md; leaflet 憑證不能永久有效: 使用期限最長為8年):
 * no certificate of a card may be valid past issuedAt + 8 years. Every
 * issuance path (new card, renewal, e-mail certificate, re-issued card) passes
 * its validity through `checkEightYearCap`; it refuses, never clamps, so
 * that a miscomputed validity is seen rather than silently shortened.
 */
import { cardLifetime } from './card-lifetime';
import { allow, refuse, type Decision } from './decision';
import { floorToSecond } from './taiwan-time';

/** A certificate validity, notAfter inclusive (RFC 5280 §4.1.2.5), whole seconds. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Checks a proposed validity against the card's life: inside [issuedAt, issuedAt + 8 years). */
export function checkEightYearCap(cardIssuedAt: Date, proposed: Validity): Decision<{ validity: Validity }> {
  const lifetime = cardLifetime(cardIssuedAt);
  const validity = { notBefore: floorToSecond(proposed.notBefore), notAfter: floorToSecond(proposed.notAfter) };
  if (validity.notBefore < lifetime.issuedAt) {
    return refuse('validity-before-card-issuance', 'A certificate cannot start before its card was issued.');
  }
  if (validity.notBefore > lifetime.capLastSecond) {
    return refuse('card-lifetime-exhausted', 'The card has reached its 8-year limit: a new application in person is needed.');
  }
  if (validity.notAfter < validity.notBefore) {
    return refuse('validity-empty', 'The certificate would end before it starts.');
  }
  if (validity.notAfter > lifetime.capLastSecond) {
    return refuse('exceeds-eight-year-cap', 'No certificate may be valid past 8 years from the card\'s first issuance.');
  }
  return allow({ validity });
}
