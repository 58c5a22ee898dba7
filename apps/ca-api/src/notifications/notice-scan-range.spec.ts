import fc from 'fast-check';
import { addSeconds, cardLifetime, noticeSchedule } from '@moica/policy';
import { noticeCandidateRanges, sliceRanges } from './notice-scan-range';

const DAY = 86_400_000;
const inRanges = (ranges: ReturnType<typeof noticeCandidateRanges>, instant: Date) =>
  ranges.some((range) => range.from.getTime() <= instant.getTime() && instant.getTime() < range.to.getTime());

describe('noticeCandidateRanges: a superset of the certificates with a notice in the span', () => {
  // Cards issued 2015-2040, to the second; the scan runs at any instant 4 to 10 years later.
  const issuedAt = fc.integer({ min: Date.UTC(2015, 0, 1) / 1000, max: Date.UTC(2040, 0, 1) / 1000 }).map((s) => new Date(s * 1000));

  it('daily and catch-up spans: every notice due in (since, until] has its certificate in a range', () => {
    fc.assert(
      fc.property(issuedAt, fc.integer({ min: 0, max: 10 * 366 * DAY }), fc.integer({ min: 1, max: 60 * DAY }), (issued, offset, span) => {
        const until = new Date(issued.getTime() + offset);
        const since = new Date(until.getTime() - span);
        const ranges = noticeCandidateRanges(since, until);
        const life = cardLifetime(issued);
        for (const notice of noticeSchedule(issued)) {
          if (notice.dueAt <= since || notice.dueAt > until) continue;
          // the card's certificate is the first one or a renewal: both must be found
          expect(inRanges(ranges, addSeconds(life.fiveYearEnd, -1))).toBe(true);
          expect(inRanges(ranges, life.capLastSecond)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('first scan (no cursor): every notice due and not stale at until is covered', () => {
    fc.assert(
      fc.property(issuedAt, fc.integer({ min: 0, max: 10 * 366 * DAY }), (issued, offset) => {
        const until = new Date(issued.getTime() + offset);
        const ranges = noticeCandidateRanges(null, until);
        const life = cardLifetime(issued);
        for (const notice of noticeSchedule(issued)) {
          if (notice.dueAt > until || notice.staleAt <= until) continue;
          expect(inRanges(ranges, addSeconds(life.fiveYearEnd, -1))).toBe(true);
          expect(inRanges(ranges, life.capLastSecond)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a daily scan reads a few days of notAfter, not years', () => {
    const until = new Date('2031-06-01T01:00:00Z');
    const ranges = noticeCandidateRanges(new Date(until.getTime() - DAY), until);
    const days = ranges.reduce((sum, range) => sum + (range.to.getTime() - range.from.getTime()) / DAY, 0);
    expect(days).toBeLessThanOrEqual(10 * 3 + 1);
    expect(days).toBeGreaterThan(0);
  });

  it('slices ranges into batches of at most n days, covering them exactly', () => {
    const from = new Date('2030-01-01T00:00:00Z');
    const slices = sliceRanges([{ from, to: new Date(from.getTime() + 10.5 * DAY) }], 7);
    expect(slices.map((slice) => (slice.to.getTime() - slice.from.getTime()) / DAY)).toEqual([7, 3.5]);
    expect(slices[1].from).toEqual(slices[0].to);
  });
});
