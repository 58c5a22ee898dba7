/**
 * The instants of a card's life (DOMAIN.md "Lifetime rules (the CPS
 * lifecycle)"), all counted from `issuedAt`, when the card's first certificate
 * was issued, in Taiwan wall-clock time (taiwan-time.ts):
 *
 * - fiveYearEnd  = issuedAt + 5 years: the first certificate is valid until
 *   the second before it;
 * - renewal window  = [fiveYearEnd - 60 days, issuedAt + 8 years);
 * - capEnd       = issuedAt + 8 years: no certificate of the card is valid at
 *   or after it (the last valid second is capEnd - 1 s);
 * - online re-issuance window = [capEnd - 60 days, issuedAt + 9 years).
 *
 * "3 years after the 5-year expiry" and "1 year after the cap" are computed
 * as issuedAt + 8 and + 9 years rather than by chaining anniversaries, so a
 * card issued on 29 February closes its renewal window exactly at its cap
 * (2024-02-29 -> five-year end 2029-02-28, cap 2032-02-29). Windows are
 * half-open: allowed from the opening instant, refused from the closing one.
 */
import { addDays, addSeconds, addTaiwanYears, assertValidInstant, floorToSecond } from './taiwan-time';

/** Validity of a new certificate, in years (leaflet: 憑證有效期限為5年). */
export const CERTIFICATE_VALIDITY_YEARS = 5;
/** Hard cap of a card's certificates, in years (leaflet: 使用期限最長為8年). */
export const CARD_CAP_YEARS = 8;
/** Renewal opens this many days before the 5-year expiry. */
export const RENEWAL_OPENS_DAYS_BEFORE_EXPIRY = 60;
/** Renewal stays open this many years after the 5-year expiry. */
export const RENEWAL_YEARS_AFTER_EXPIRY = 3;
/** Online re-issuance opens this many days before the cap. */
export const REISSUANCE_OPENS_DAYS_BEFORE_CAP = 60;
/** Online re-issuance stays open this many years after the cap. */
export const REISSUANCE_YEARS_AFTER_CAP = 1;

/** A half-open interval of instants [opensAt, closesAt). */
export interface TimeWindow {
  readonly opensAt: Date;
  readonly closesAt: Date;
}

/** The anchors of one card's life. */
export interface CardLifetime {
  /** issuedAt truncated to the second. */
  readonly issuedAt: Date;
  /** issuedAt + 5 years (exclusive end of the first certificate). */
  readonly fiveYearEnd: Date;
  /** issuedAt + 8 years (exclusive): nothing of this card is valid from here. */
  readonly capEnd: Date;
  /** capEnd - 1 second: the latest possible notAfter. */
  readonly capLastSecond: Date;
  readonly renewal: TimeWindow;
  readonly reissuance: TimeWindow;
}

/** Whether `now` lies in a half-open window. */
export function isWithin(window: TimeWindow, now: Date): boolean {
  return now.getTime() >= window.opensAt.getTime() && now.getTime() < window.closesAt.getTime();
}

/** Computes every anchor of a card's life from its first issuance. */
export function cardLifetime(cardIssuedAt: Date): CardLifetime {
  assertValidInstant(cardIssuedAt, 'cardIssuedAt');
  const issuedAt = floorToSecond(cardIssuedAt);
  const fiveYearEnd = addTaiwanYears(issuedAt, CERTIFICATE_VALIDITY_YEARS);
  const capEnd = addTaiwanYears(issuedAt, CARD_CAP_YEARS);
  return {
    issuedAt,
    fiveYearEnd,
    capEnd,
    capLastSecond: addSeconds(capEnd, -1),
    renewal: {
      opensAt: addDays(fiveYearEnd, -RENEWAL_OPENS_DAYS_BEFORE_EXPIRY),
      closesAt: addTaiwanYears(issuedAt, CERTIFICATE_VALIDITY_YEARS + RENEWAL_YEARS_AFTER_EXPIRY),
    },
    reissuance: {
      opensAt: addDays(capEnd, -REISSUANCE_OPENS_DAYS_BEFORE_CAP),
      closesAt: addTaiwanYears(issuedAt, CARD_CAP_YEARS + REISSUANCE_YEARS_AFTER_CAP),
    },
  };
}
