import { ageOn, dayOfReachingAge } from './age';
import { parseCalendarDate, type CalendarDate } from './taiwan-time';

const day = (text: string) => parseCalendarDate(text) as CalendarDate;

describe('ageOn (Civil Code arts. 121, 124)', () => {
  it.each([
    ['2008-03-10', '2026-03-09', 17],
    ['2008-03-10', '2026-03-10', 18],
    ['2008-03-10', '2026-03-11', 18],
    ['2008-03-10', '2025-12-31', 17],
    // Leap-day birth: 18 on 1 March of a common year...
    ['2008-02-29', '2026-02-28', 17],
    ['2008-02-29', '2026-03-01', 18],
    // ... and on 29 February of a leap year.
    ['2012-02-29', '2030-02-28', 17],
    ['2012-02-29', '2030-03-01', 18],
    ['2004-02-29', '2022-02-28', 17],
    ['2004-02-29', '2022-03-01', 18],
    ['2000-02-29', '2018-02-28', 17],
    ['2000-02-29', '2018-03-01', 18],
    ['2008-02-29', '2024-02-28', 15],
    ['2008-02-29', '2044-02-28', 35],
    ['2008-02-29', '2044-02-29', 36],
    ['2008-12-31', '2026-12-31', 18],
    ['2009-01-01', '2026-12-31', 17],
  ])('born %s, on %s: %i', (birth, on, age) => {
    expect(ageOn(day(birth), day(on))).toBe(age);
  });

  it.each([
    ['2008-02-29', 18, '2026-03-01'],
    ['2008-02-29', 16, '2024-02-29'],
    ['2008-07-04', 18, '2026-07-04'],
  ])('born %s reaches %i on %s', (birth, age, expected) => {
    expect(dayOfReachingAge(day(birth), age)).toEqual(day(expected));
  });
});
