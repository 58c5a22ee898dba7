import { addDays, addSeconds, cardLifetime, noticeSchedule, type NoticeKind as LifecycleNoticeKind } from '@moica/policy';

/** A half-open range of certificate notAfter values [from, to). */
export interface NotAfterRange {
  readonly from: Date;
  readonly to: Date;
}

const YEAR_MS = 366 * 86_400_000;
/** Widens each range: a superset costs a few rows, a miss costs a notice. */
const SLACK_DAYS = 1;

/**
 * The notAfter ranges that contain every certificate which may have a notice
 * due in the span (`since`, `until`] (or, with `since` null, any notice due
 * by `until` and not yet stale). The daily scan reads only these ranges
 * through the index on certificate.not_after; the policy (`noticesDue`) then
 * decides on each row, so the ranges only need to be a superset.
 *
 * No rule is restated here: the ranges are found by inverting the policy's
 * own functions. For each notice kind, `noticeSchedule(issuedAt)` gives due
 * and stale instants that never decrease as issuedAt grows, so the issuedAt
 * interval whose due instant falls in the span is found by bisection; a
 * card's certificates end at one of two anchors of `cardLifetime(issuedAt)`
 * (the first certificate one second before the 5-year end, a renewed one at
 * the cap's last second: every issuance path goes through
 * newCertificateValidity / checkEightYearCap), both also non-decreasing, which
 * maps the issuedAt interval to notAfter ranges.
 */
export function noticeCandidateRanges(since: Date | null, until: Date): NotAfterRange[] {
  const ranges: NotAfterRange[] = [];
  for (const kind of noticeSchedule(until).map((notice) => notice.kind)) {
    const due = (issuedAt: Date) => scheduled(issuedAt, kind).dueAt;
    const stale = (issuedAt: Date) => scheduled(issuedAt, kind).staleAt;
    // issuedAt in [low, high): due in (since, until] (and, without since, not stale at until)
    const low = since ? firstIssuedAtAfter(due, since) : firstIssuedAtAfter(stale, until);
    const high = firstIssuedAtAfter(due, until);
    if (low.getTime() >= high.getTime()) continue;
    const first = (issuedAt: Date) => addSeconds(cardLifetime(issuedAt).fiveYearEnd, -1);
    const renewed = (issuedAt: Date) => cardLifetime(issuedAt).capLastSecond;
    for (const notAfterOf of [first, renewed]) {
      ranges.push({ from: addDays(notAfterOf(low), -SLACK_DAYS), to: addDays(notAfterOf(high), SLACK_DAYS) });
    }
  }
  return mergeRanges(ranges);
}

function scheduled(issuedAt: Date, kind: LifecycleNoticeKind) {
  const notice = noticeSchedule(issuedAt).find((candidate) => candidate.kind === kind);
  if (!notice) throw new Error(`notice kind ${kind} missing from noticeSchedule`);
  return notice;
}

/**
 * The smallest issuedAt (to the millisecond) with f(issuedAt) > t, for a
 * non-decreasing f whose offset f(x) - x lies between 0 and 10 years (every
 * notice is due 4 to 9 years after issuance).
 */
function firstIssuedAtAfter(f: (issuedAt: Date) => Date, t: Date): Date {
  let low = t.getTime() - 10 * YEAR_MS; // f(low) <= t
  let high = t.getTime(); // f(high) > t
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (f(new Date(middle)).getTime() > t.getTime()) high = middle;
    else low = middle;
  }
  return new Date(high);
}

function mergeRanges(ranges: NotAfterRange[]): NotAfterRange[] {
  const sorted = [...ranges].sort((a, b) => a.from.getTime() - b.from.getTime());
  const merged: NotAfterRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.from.getTime() <= last.to.getTime()) {
      if (range.to.getTime() > last.to.getTime()) merged[merged.length - 1] = { from: last.from, to: range.to };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** Splits ranges into slices of at most `days` days: one slice is one batch of the scan. */
export function sliceRanges(ranges: NotAfterRange[], days: number): NotAfterRange[] {
  const slices: NotAfterRange[] = [];
  for (const range of ranges) {
    for (let from = range.from; from.getTime() < range.to.getTime(); ) {
      const next = addDays(from, days);
      const to = next.getTime() < range.to.getTime() ? next : range.to;
      slices.push({ from, to });
      from = to;
    }
  }
  return slices;
}
