/**
 * Validity of a new certificate (DOMAIN.md: valid for 5 years; leaflet
 * 憑證有效期限為5年). notBefore is the issuance instant truncated to the
 * second, without backdating; notAfter is the last second before issuedAt + 5
 * years (RFC 5280 §4.1.2.5: the period includes notAfter), so the certificate
 * is valid for exactly 5 years of seconds. A card issued on 29 February ends
 * its first certificate on 28 February at the issuance time minus one second
 * (see taiwan-time.ts addTaiwanYears). The same rule gives a card produced by
 * online re-issuance its validity, counted from its own production.
 */
import { cardLifetime } from './card-lifetime';
import type { Decision } from './decision';
import { checkEightYearCap, type Validity } from './eight-year-cap';
import { addSeconds } from './taiwan-time';

/** The validity of the first certificates of a card issued at `issuedAt`. */
export function newCertificateValidity(issuedAt: Date): Decision<{ validity: Validity }> {
  const lifetime = cardLifetime(issuedAt);
  return checkEightYearCap(issuedAt, {
    notBefore: lifetime.issuedAt,
    notAfter: addSeconds(lifetime.fiveYearEnd, -1),
  });
}
