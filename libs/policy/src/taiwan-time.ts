/**
 * Time in Taiwan (DOMAIN.md: a "day" of birth, of application or of a window
 * is a Taiwan calendar day). Taiwan keeps UTC+8 all year, with no daylight
 * saving time since 1979, so a Taiwan day is always exactly 24 hours and the
 * wall clock is a fixed shift of UTC. Instants are `Date` values supplied by
 * the caller: nothing here reads a clock (STYLE.md rule 1).
 */

/** Taiwan Standard Time, UTC+08:00, no DST. */
export const TAIWAN_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;

/** One day; exact in Taiwan, which has no DST. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** One second: the resolution of X.509 times (RFC 5280 §4.1.2.5). */
export const SECOND_MS = 1000;

/** A Gregorian calendar date without a time (a date of birth, a Taiwan day). Month 1-12. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Gregorian leap-year rule. */
export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days in a month of the Gregorian calendar (month 1-12). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True when the three numbers name a real Gregorian date. */
export function isValidCalendarDate(date: CalendarDate): boolean {
  const { year, month, day } = date;
  if (![year, month, day].every(Number.isInteger)) return false;
  if (year < 1 || year > 9999 || month < 1 || month > 12) return false;
  return day >= 1 && day <= daysInMonth(year, month);
}

/** Parses `YYYY-MM-DD` (ISO 8601 calendar date); null when malformed or not a real date. */
export function parseCalendarDate(text: string): CalendarDate | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isValidCalendarDate(date) ? date : null;
}

/** Formats a date as `YYYY-MM-DD`. */
export function formatCalendarDate(date: CalendarDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** Orders two calendar dates: negative, zero or positive. */
export function compareCalendarDates(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** The Taiwan calendar day (UTC+8) that contains `instant`. */
export function taiwanCalendarDate(instant: Date): CalendarDate {
  const wall = new Date(instant.getTime() + TAIWAN_UTC_OFFSET_MS);
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** The first instant (00:00:00 Taiwan time) of a Taiwan calendar day. */
export function startOfTaiwanDay(date: CalendarDate): Date {
  const wall = new Date(0);
  wall.setUTCFullYear(date.year, date.month - 1, date.day);
  return new Date(wall.getTime() - TAIWAN_UTC_OFFSET_MS);
}

/** `instant` with its milliseconds dropped: X.509 times are whole seconds (RFC 5280 §4.1.2.5). */
export function floorToSecond(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / SECOND_MS) * SECOND_MS);
}

/** `instant` moved by a number of (24-hour) days. */
export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * DAY_MS);
}

/** `instant` moved by a number of seconds. */
export function addSeconds(instant: Date, seconds: number): Date {
  return new Date(instant.getTime() + seconds * SECOND_MS);
}

/**
 * The same Taiwan wall-clock time `years` later (an anniversary). A 29 February
 * with no counterpart in the target year becomes 28 February: a period counted
 * in years never gets longer because of a leap day (Taiwan Civil Code art. 121:
 * when the last month has no corresponding day, the period ends on that
 * month's last day). Lifetime rules always count from the card's issuance, never
 * from another anniversary, so the clamp never accumulates.
 */
export function addTaiwanYears(instant: Date, years: number): Date {
  const wall = new Date(instant.getTime() + TAIWAN_UTC_OFFSET_MS);
  const year = wall.getUTCFullYear() + years;
  const month = wall.getUTCMonth();
  let day = wall.getUTCDate();
  if (month === 1 && day === 29 && !isLeapYear(year)) day = 28;
  wall.setUTCFullYear(year, month, day);
  return new Date(wall.getTime() - TAIWAN_UTC_OFFSET_MS);
}

/** Throws a RangeError for an invalid `Date` (a programming error, not a refusal). */
export function assertValidInstant(instant: Date, name: string): void {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) {
    throw new RangeError(`${name} is not a valid instant`);
  }
}
