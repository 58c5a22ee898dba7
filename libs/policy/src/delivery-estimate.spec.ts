import { addWorkingDays, deliveryArea, estimateDelivery, isWorkingDay } from './delivery-estimate';
import { formatCalendarDate } from './taiwan-time';

const at = (iso: string) => new Date(iso);
const noHolidays = { holidays: new Set<string>() };
// 2034: 28 February (和平紀念日) falls on a Tuesday.
const withHolidays = { holidays: new Set(['2034-02-28', '2034-02-27']), makeUpWorkdays: new Set(['2034-02-25']) };

describe('deliveryArea', () => {
  it.each([
    ['10617', 'main-island', null],
    ['106', 'main-island', null],
    ['880', 'outlying-island', 'Penghu'],
    ['88542', 'outlying-island', 'Penghu'],
    ['893', 'outlying-island', 'Kinmen'],
    ['209', 'outlying-island', 'Matsu'],
    ['212', 'outlying-island', 'Matsu'],
    ['951', 'outlying-island', 'Green Island'],
    ['952', 'outlying-island', 'Orchid Island'],
    ['929', 'outlying-island', 'Xiaoliuqiu'],
    ['928', 'main-island', null],
    ['950', 'main-island', null],
  ])('%s is %s (%s)', (code, region, island) => {
    expect(deliveryArea(code)).toMatchObject({ allowed: true, area: { region, island } });
  });

  it.each([
    ['', 'postal-code-invalid'],
    ['1061', 'postal-code-invalid'],
    ['099', 'postal-code-invalid'],
    ['984', 'postal-code-invalid'],
    ['SW1A 1AA', 'postal-code-invalid'],
    ['10017-1234', 'postal-code-invalid'],
    ['817', 'postal-code-not-deliverable'],
    ['290', 'postal-code-not-deliverable'],
  ])('%j is refused: %s', (code, reason) => {
    expect(deliveryArea(code)).toMatchObject({ allowed: false, code: reason });
  });
});

describe('working days', () => {
  it.each([
    ['2034-02-20', true], // Monday
    ['2034-02-25', false], // Saturday
    ['2034-02-26', false], // Sunday
  ])('%s working: %s', (date, working) => {
    const [year, month, day] = date.split('-').map(Number);
    expect(isWorkingDay({ year, month, day }, noHolidays)).toBe(working);
  });

  it('skips holidays and counts make-up Saturdays', () => {
    expect(isWorkingDay({ year: 2034, month: 2, day: 28 }, withHolidays)).toBe(false);
    expect(isWorkingDay({ year: 2034, month: 2, day: 25 }, withHolidays)).toBe(true);
  });

  it('counts from the Taiwan day of the instant, not the UTC day', () => {
    // 2034-02-17 23:30 UTC is Saturday 18 February 07:30 in Taiwan: the next working day is Monday 20.
    expect(formatCalendarDate(addWorkingDays(at('2034-02-17T23:30:00Z'), 1, noHolidays))).toBe('2034-02-20');
    // Friday 17 February 15:00 UTC is still Friday 23:00 in Taiwan.
    expect(formatCalendarDate(addWorkingDays(at('2034-02-17T15:00:00Z'), 1, noHolidays))).toBe('2034-02-20');
  });
});

describe('estimateDelivery', () => {
  it.each([
    ['main island, no holiday', '10617', '2034-02-13T02:00:00Z', noHolidays, '2034-02-22', '2034-02-22'],
    ['outlying island, 2 to 3 more', '88042', '2034-02-13T02:00:00Z', noHolidays, '2034-02-24', '2034-02-27'],
    ['main island over configured holidays and a make-up Saturday', '10617', '2034-02-20T02:00:00Z', withHolidays, '2034-03-02', '2034-03-02'],
  ])('%s', (_label, code, paidAt, calendar, earliest, latest) => {
    expect(estimateDelivery(code, at(paidAt), calendar)).toMatchObject({ allowed: true, earliest, latest });
  });

  it('refuses an address abroad', () => {
    expect(estimateDelivery('SW1A', at('2034-02-13T02:00:00Z'), noHolidays)).toMatchObject({ allowed: false, code: 'postal-code-invalid' });
  });
});
