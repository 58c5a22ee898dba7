import {
  addDays,
  addSeconds,
  addTaiwanYears,
  assertValidInstant,
  compareCalendarDates,
  daysInMonth,
  floorToSecond,
  formatCalendarDate,
  isLeapYear,
  isValidCalendarDate,
  parseCalendarDate,
  startOfTaiwanDay,
  taiwanCalendarDate,
} from './taiwan-time';

const at = (iso: string) => new Date(iso);

describe('taiwanCalendarDate (UTC+8, no DST)', () => {
  it.each([
    ['2024-02-28T15:59:59Z', '2024-02-28'],
    ['2024-02-28T16:00:00Z', '2024-02-29'],
    ['2024-02-29T15:59:59Z', '2024-02-29'],
    ['2024-02-29T16:00:00Z', '2024-03-01'],
    ['2025-12-31T16:00:00Z', '2026-01-01'],
    ['2026-07-01T12:00:00+08:00', '2026-07-01'],
  ])('%s is Taiwan day %s', (instant, day) => {
    expect(formatCalendarDate(taiwanCalendarDate(at(instant)))).toBe(day);
  });

  it('starts a Taiwan day at 16:00 UTC the day before', () => {
    expect(startOfTaiwanDay({ year: 2024, month: 2, day: 29 }).toISOString()).toBe('2024-02-28T16:00:00.000Z');
    expect(startOfTaiwanDay({ year: 45, month: 1, day: 1 }).getUTCFullYear()).toBe(44);
  });
});

describe('calendar dates', () => {
  it.each([
    [2024, true], [2023, false], [2000, true], [1900, false], [2100, false],
  ])('leap year %i: %s', (year, leap) => expect(isLeapYear(year)).toBe(leap));

  it.each([
    [2024, 2, 29], [2023, 2, 28], [2023, 4, 30], [2023, 12, 31], [2023, 9, 30], [2023, 1, 31],
  ])('%i-%i has %i days', (year, month, days) => expect(daysInMonth(year, month)).toBe(days));

  it.each([
    [{ year: 2024, month: 2, day: 29 }, true],
    [{ year: 2023, month: 2, day: 29 }, false],
    [{ year: 2023, month: 13, day: 1 }, false],
    [{ year: 2023, month: 0, day: 1 }, false],
    [{ year: 2023, month: 4, day: 31 }, false],
    [{ year: 2023, month: 4, day: 0 }, false],
    [{ year: 2023.5, month: 4, day: 1 }, false],
    [{ year: 0, month: 4, day: 1 }, false],
    [{ year: 10000, month: 4, day: 1 }, false],
  ])('%o valid: %s', (date, valid) => expect(isValidCalendarDate(date)).toBe(valid));

  it.each([
    ['2008-02-29', { year: 2008, month: 2, day: 29 }],
    ['2007-02-29', null],
    ['2007-2-28', null],
    ['20070228', null],
    [' 2007-02-28', null],
  ])('parses %j', (text, date) => expect(parseCalendarDate(text)).toEqual(date));

  it('orders dates', () => {
    expect(compareCalendarDates({ year: 2024, month: 2, day: 29 }, { year: 2024, month: 3, day: 1 })).toBeLessThan(0);
    expect(compareCalendarDates({ year: 2025, month: 1, day: 1 }, { year: 2024, month: 12, day: 31 })).toBeGreaterThan(0);
    expect(compareCalendarDates({ year: 2024, month: 5, day: 6 }, { year: 2024, month: 5, day: 6 })).toBe(0);
  });
});

describe('instants', () => {
  it.each([
    // Taiwan 2024-02-29 10:00 -> 28 February in common years, 29 February in leap years.
    ['2024-02-29T02:00:00Z', 5, '2029-02-28T02:00:00.000Z'],
    ['2024-02-29T02:00:00Z', 8, '2032-02-29T02:00:00.000Z'],
    ['2024-02-29T02:00:00Z', 9, '2033-02-28T02:00:00.000Z'],
    // Taiwan 2024-02-29 23:59:59 is still the leap day.
    ['2024-02-29T15:59:59Z', 5, '2029-02-28T15:59:59.000Z'],
    // 2024-02-29T16:30Z is Taiwan 1 March: no clamp.
    ['2024-02-29T16:30:00Z', 5, '2029-02-28T16:30:00.000Z'],
    ['2021-06-15T01:30:00.250Z', 5, '2026-06-15T01:30:00.250Z'],
  ])('%s + %i Taiwan years = %s', (instant, years, expected) => {
    expect(addTaiwanYears(at(instant), years).toISOString()).toBe(expected);
  });

  it('moves by days and seconds and drops milliseconds', () => {
    expect(addDays(at('2029-02-28T02:00:00Z'), -60).toISOString()).toBe('2028-12-30T02:00:00.000Z');
    expect(addSeconds(at('2029-02-28T02:00:00Z'), -1).toISOString()).toBe('2029-02-28T01:59:59.000Z');
    expect(floorToSecond(at('2029-02-28T02:00:00.999Z')).toISOString()).toBe('2029-02-28T02:00:00.000Z');
  });

  it('rejects an invalid Date as a programming error', () => {
    expect(() => assertValidInstant(at('not a date'), 'now')).toThrow(RangeError);
    expect(() => assertValidInstant('2024-01-01' as unknown as Date, 'now')).toThrow('now is not a valid instant');
    expect(() => assertValidInstant(at('2024-01-01T00:00:00Z'), 'now')).not.toThrow();
  });
});
