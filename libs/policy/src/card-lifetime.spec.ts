import { cardLifetime, isWithin } from './card-lifetime';

const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

describe('cardLifetime', () => {
  it.each([
    {
      card: 'issued 2021-06-15 09:30 Taiwan',
      issuedAt: '2021-06-15T01:30:00Z',
      fiveYearEnd: '2026-06-15T01:30:00Z',
      renewalOpens: '2026-04-16T01:30:00Z',
      capEnd: '2029-06-15T01:30:00Z',
      capLastSecond: '2029-06-15T01:29:59Z',
      reissuanceOpens: '2029-04-16T01:30:00Z',
      reissuanceCloses: '2030-06-15T01:30:00Z',
    },
    {
      card: 'issued on the leap day 2024-02-29 10:00 Taiwan',
      issuedAt: '2024-02-29T02:00:00Z',
      fiveYearEnd: '2029-02-28T02:00:00Z',
      renewalOpens: '2028-12-30T02:00:00Z',
      capEnd: '2032-02-29T02:00:00Z',
      capLastSecond: '2032-02-29T01:59:59Z',
      reissuanceOpens: '2031-12-31T02:00:00Z',
      reissuanceCloses: '2033-02-28T02:00:00Z',
    },
    {
      card: 'issued 2024-03-01 00:30 Taiwan (still 29 February in UTC)',
      issuedAt: '2024-02-29T16:30:00Z',
      fiveYearEnd: '2029-02-28T16:30:00Z',
      renewalOpens: '2028-12-30T16:30:00Z',
      capEnd: '2032-02-29T16:30:00Z',
      capLastSecond: '2032-02-29T16:29:59Z',
      reissuanceOpens: '2031-12-31T16:30:00Z',
      reissuanceCloses: '2033-02-28T16:30:00Z',
    },
    {
      card: 'issued with milliseconds, truncated to the second',
      issuedAt: '2021-06-15T01:30:00.999Z',
      fiveYearEnd: '2026-06-15T01:30:00Z',
      renewalOpens: '2026-04-16T01:30:00Z',
      capEnd: '2029-06-15T01:30:00Z',
      capLastSecond: '2029-06-15T01:29:59Z',
      reissuanceOpens: '2029-04-16T01:30:00Z',
      reissuanceCloses: '2030-06-15T01:30:00Z',
    },
  ])('$card', (row) => {
    const life = cardLifetime(at(row.issuedAt));
    expect({
      fiveYearEnd: iso(life.fiveYearEnd),
      renewalOpens: iso(life.renewal.opensAt),
      renewalCloses: iso(life.renewal.closesAt),
      capEnd: iso(life.capEnd),
      capLastSecond: iso(life.capLastSecond),
      reissuanceOpens: iso(life.reissuance.opensAt),
      reissuanceCloses: iso(life.reissuance.closesAt),
    }).toEqual({
      fiveYearEnd: row.fiveYearEnd,
      renewalOpens: row.renewalOpens,
      // The renewal window closes exactly at the cap, even for a leap-day card.
      renewalCloses: row.capEnd,
      capEnd: row.capEnd,
      capLastSecond: row.capLastSecond,
      reissuanceOpens: row.reissuanceOpens,
      reissuanceCloses: row.reissuanceCloses,
    });
  });

  it('refuses an invalid issuance instant as a programming error', () => {
    expect(() => cardLifetime(at('garbage'))).toThrow(RangeError);
  });

  it('treats windows as half-open', () => {
    const window = { opensAt: at('2026-01-01T00:00:00Z'), closesAt: at('2026-01-02T00:00:00Z') };
    expect(isWithin(window, at('2025-12-31T23:59:59Z'))).toBe(false);
    expect(isWithin(window, at('2026-01-01T00:00:00Z'))).toBe(true);
    expect(isWithin(window, at('2026-01-01T23:59:59Z'))).toBe(true);
    expect(isWithin(window, at('2026-01-02T00:00:00Z'))).toBe(false);
  });
});
