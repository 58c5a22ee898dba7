/**
 * Age on a Taiwan calendar day (DOMAIN.md: 18 or older on the day of
 * application). Taiwan Civil Code art. 124 counts age from the day of birth;
 * art. 121 ends a period of years on the day before the corresponding day, or,
 * when the last month has none, on that month's last day. Hence a person born
 * on 29 February reaches an age on 1 March of a common year (the period ends
 * at the close of 28 February) and on 29 February of a leap year.
 */
import { compareCalendarDates, isLeapYear, type CalendarDate } from './taiwan-time';

/** The age of majority for a certificate applicant (DOMAIN.md, leaflet: 年滿18歲). */
export const MINIMUM_APPLICANT_AGE = 18;

/** The Taiwan calendar day on which someone born on `dateOfBirth` reaches `age`. */
export function dayOfReachingAge(dateOfBirth: CalendarDate, age: number): CalendarDate {
  const year = dateOfBirth.year + age;
  if (dateOfBirth.month === 2 && dateOfBirth.day === 29 && !isLeapYear(year)) {
    return { year, month: 3, day: 1 };
  }
  return { year, month: dateOfBirth.month, day: dateOfBirth.day };
}

/** Completed years of age on the Taiwan day `on` (negative before birth is clamped to -1). */
export function ageOn(dateOfBirth: CalendarDate, on: CalendarDate): number {
  const candidate = on.year - dateOfBirth.year;
  return compareCalendarDates(on, dayOfReachingAge(dateOfBirth, candidate)) >= 0 ? candidate : candidate - 1;
}
