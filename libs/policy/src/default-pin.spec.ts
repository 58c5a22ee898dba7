import { defaultPin, rocYear } from './default-pin';

describe('defaultPin (ROC date of birth, 6 digits)', () => {
  it.each([
    [{ year: 1990, month: 7, day: 4 }, '790704'],
    [{ year: 2008, month: 2, day: 29 }, '970229'],
    [{ year: 2010, month: 12, day: 31 }, '991231'],
    // ROC 100 and later: the year is written modulo 100 to keep 6 digits.
    [{ year: 2011, month: 1, day: 1 }, '000101'],
    [{ year: 2011, month: 3, day: 5 }, '000305'],
    [{ year: 2012, month: 2, day: 29 }, '010229'],
    [{ year: 2021, month: 10, day: 10 }, '101010'],
    // ROC 1-9 are zero-padded.
    [{ year: 1912, month: 1, day: 1 }, '010101'],
    [{ year: 1920, month: 11, day: 30 }, '091130'],
  ])('%o -> %s', (dateOfBirth, pin) => {
    expect(defaultPin(dateOfBirth)).toEqual({ allowed: true, pin });
  });

  it.each([
    [{ year: 1911, month: 12, day: 31 }, 'date-of-birth-before-roc-era'],
    [{ year: 2007, month: 2, day: 29 }, 'date-of-birth-invalid'],
    [{ year: 2007, month: 13, day: 1 }, 'date-of-birth-invalid'],
  ])('%o refused with %s', (dateOfBirth, code) => {
    expect(defaultPin(dateOfBirth)).toMatchObject({ allowed: false, code });
  });

  it('converts Gregorian to ROC years', () => {
    expect(rocYear(2026)).toBe(115);
    expect(rocYear(1912)).toBe(1);
  });
});
