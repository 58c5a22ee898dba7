/**
 * The card's default PIN (DOMAIN.md; leaflet: 卡片密碼預設為持卡人民國出生
 * ○○年○○月○○日 共6碼): the date of birth in the ROC calendar (ROC year =
 * Gregorian year - 1911), year-month-day, 6 digits.
 *
 * ROC years of three digits (born 2011 or later, ROC 100+, applicants from
 * 2029): the leaflet fixes 6 digits and two year positions, so the year is
 * written modulo 100 ("00" for ROC 100). Born 2011-03-05 -> ROC 100 -> 000305.
 * ROC years 1-9 are zero-padded. Births before 1912 have no ROC year and are
 * refused. The default PIN is not a secret; the leaflet tells holders to change it.
 */
import { allow, refuse, type Decision } from './decision';
import { isValidCalendarDate, type CalendarDate } from './taiwan-time';

/** Gregorian year of ROC year 0. */
export const ROC_EPOCH_OFFSET = 1911;

/** The ROC (民國) year of a Gregorian year. */
export function rocYear(gregorianYear: number): number {
  return gregorianYear - ROC_EPOCH_OFFSET;
}

/** The 6-digit default PIN for a date of birth. */
export function defaultPin(dateOfBirth: CalendarDate): Decision<{ pin: string }> {
  if (!isValidCalendarDate(dateOfBirth)) return refuse('date-of-birth-invalid', 'The date of birth is not a real date.');
  const year = rocYear(dateOfBirth.year);
  if (year < 1) {
    return refuse('date-of-birth-before-roc-era', 'A date of birth before 1912 has no ROC year for the default PIN.');
  }
  const two = (n: number) => String(n).padStart(2, '0');
  return allow({ pin: `${two(year % 100)}${two(dateOfBirth.month)}${two(dateOfBirth.day)}` });
}
