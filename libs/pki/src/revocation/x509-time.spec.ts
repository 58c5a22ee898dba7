import { encodeGeneralizedTime, encodeX509Time } from './x509-time';

const text = (der: Uint8Array) => `${der[0].toString(16)}:${Buffer.from(der.subarray(2)).toString('latin1')}`;

describe('encodeX509Time (RFC 5280 §4.1.2.5)', () => {
  it.each([
    ['2026-03-01T08:30:15Z', '17:260301083015Z'],
    ['2049-12-31T23:59:59Z', '17:491231235959Z'], // last UTCTime second
    ['2050-01-01T00:00:00Z', '18:20500101000000Z'], // GeneralizedTime from 2050
    ['1950-01-01T00:00:00Z', '17:500101000000Z'],
    ['1949-12-31T23:59:59Z', '18:19491231235959Z'],
    ['2099-12-31T00:00:00Z', '18:20991231000000Z'],
    ['2026-03-01T08:30:15.999Z', '17:260301083015Z'], // fractions of a second are truncated
  ])('%s is %s', (iso, expected) => {
    const der = encodeX509Time(new Date(iso));
    expect(text(der)).toBe(expected);
    expect(der[1]).toBe(der.length - 2);
  });

  it('refuses an invalid date', () => {
    expect(() => encodeX509Time(new Date('nonsense'))).toThrow(RangeError);
  });
});

describe('encodeGeneralizedTime (RFC 5280 §4.1.2.5.2)', () => {
  it.each([
    ['2026-03-01T08:30:15Z', '18:20260301083015Z'],
    ['2049-12-31T23:59:59.5Z', '18:20491231235959Z'],
  ])('%s is %s', (iso, expected) => {
    expect(text(encodeGeneralizedTime(new Date(iso)))).toBe(expected);
  });
});
