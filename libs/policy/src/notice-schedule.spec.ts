import type { CertificateFacts } from './certificate-facts';
import { noticeApplies, noticeSchedule, noticesDue, type NoticeKind } from './notice-schedule';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;
const shift = (iso: string, ms: number) => new Date(at(iso).getTime() + ms);

// The leap-day card: issued 2024-02-29 10:00 Taiwan.
const issuedAt = '2024-02-29T02:00:00Z';
const first = (facts: Partial<CertificateFacts> = {}): CertificateFacts => ({
  cardIssuedAt: at(issuedAt),
  notBefore: at(issuedAt),
  notAfter: at('2029-02-28T01:59:59Z'),
  status: 'valid',
  suspendedBy: null,
  revocationReason: null,
  isRenewal: false,
  ...facts,
});
const renewed = (facts: Partial<CertificateFacts> = {}) =>
  first({ isRenewal: true, notBefore: at('2029-01-10T00:00:00Z'), notAfter: at('2032-02-29T01:59:59Z'), ...facts });

const SCHEDULE: [NoticeKind, string, string][] = [
  ['renewal-window-opened', '2028-12-30T02:00:00Z', '2029-02-28T02:00:00Z'],
  ['expired-but-renewable', '2029-02-28T02:00:00Z', '2031-12-01T02:00:00Z'],
  ['renewal-window-closing', '2031-12-01T02:00:00Z', '2032-02-29T02:00:00Z'],
  ['reissuance-window-opened', '2031-12-31T02:00:00Z', '2033-01-29T02:00:00Z'],
  ['reissuance-window-closing', '2033-01-29T02:00:00Z', '2033-02-28T02:00:00Z'],
];

describe('noticeSchedule', () => {
  it('gives each notice its due and stale instants', () => {
    expect(noticeSchedule(at(issuedAt))).toEqual(
      SCHEDULE.map(([kind, dueAt, staleAt]) => ({ kind, dueAt: at(dueAt), staleAt: at(staleAt) })),
    );
  });
});

const kinds = (certificate: CertificateFacts, now: Date) => noticesDue(certificate, now).map((notice) => notice.kind);

type Boundary = [string, NoticeKind[], NoticeKind[]];
const EDGES: Record<string, { issuedAt: string; notAfter: string; boundaries: Boundary[] }> = {
  'leap-day card (issued 2024-02-29 10:00 Taiwan)': {
    issuedAt: '2024-02-29T02:00:00Z',
    notAfter: '2029-02-28T01:59:59Z',
    boundaries: [
      ['2028-12-30T02:00:00Z', [], ['renewal-window-opened']],
      ['2029-02-28T02:00:00Z', ['renewal-window-opened'], ['expired-but-renewable']],
      ['2031-12-01T02:00:00Z', ['expired-but-renewable'], ['renewal-window-closing']],
      ['2031-12-31T02:00:00Z', ['renewal-window-closing'], ['renewal-window-closing', 'reissuance-window-opened']],
      ['2032-02-29T02:00:00Z', ['renewal-window-closing', 'reissuance-window-opened'], ['reissuance-window-opened']],
      ['2033-01-29T02:00:00Z', ['reissuance-window-opened'], ['reissuance-window-closing']],
      ['2033-02-28T02:00:00Z', ['reissuance-window-closing'], []],
    ],
  },
  'ordinary card (issued 2021-06-15 09:30 Taiwan)': {
    issuedAt: '2021-06-15T01:30:00Z',
    notAfter: '2026-06-15T01:29:59Z',
    boundaries: [
      ['2026-04-16T01:30:00Z', [], ['renewal-window-opened']],
      ['2026-06-15T01:30:00Z', ['renewal-window-opened'], ['expired-but-renewable']],
      ['2029-03-17T01:30:00Z', ['expired-but-renewable'], ['renewal-window-closing']],
      ['2029-04-16T01:30:00Z', ['renewal-window-closing'], ['renewal-window-closing', 'reissuance-window-opened']],
      ['2029-06-15T01:30:00Z', ['renewal-window-closing', 'reissuance-window-opened'], ['reissuance-window-opened']],
      ['2030-05-16T01:30:00Z', ['reissuance-window-opened'], ['reissuance-window-closing']],
      ['2030-06-15T01:30:00Z', ['reissuance-window-closing'], []],
    ],
  },
};

describe.each(Object.entries(EDGES))('noticesDue at every edge of the %s, never renewed', (_card, { issuedAt: issued, notAfter, boundaries }) => {
  const unrenewed = first({ cardIssuedAt: at(issued), notBefore: at(issued), notAfter: at(notAfter) });
  const rows = boundaries.flatMap(([boundary, before, after]): [string, Date, NoticeKind[]][] => [
    [`${boundary} - 1 day`, shift(boundary, -DAY), before],
    [`${boundary} - 1 s`, shift(boundary, -1000), before],
    [boundary, at(boundary), after],
    [`${boundary} + 1 s`, shift(boundary, 1000), after],
    [`${boundary} + 1 day`, shift(boundary, DAY), after],
  ]);
  it.each(rows)('at %s: %j', (_label, now, expected) => {
    expect(kinds(unrenewed, now)).toEqual(expected);
  });
});

describe('which notices apply', () => {
  it.each<[string, CertificateFacts, string, NoticeKind[]]>([
    ['a renewed certificate gets no renewal notice', renewed(), '2031-12-31T02:00:00Z', ['reissuance-window-opened']],
    ['a renewed certificate before the re-issuance window', renewed(), '2029-02-28T02:00:00Z', []],
    ['a revoked certificate gets none', first({ status: 'revoked', revocationReason: 'keyCompromise' }), '2028-12-31T00:00:00Z', []],
    ['a suspended certificate is still told it may renew', first({ status: 'suspended', suspendedBy: 'holder' }), '2028-12-31T00:00:00Z', ['renewal-window-opened']],
    ['a certificate that expired suspended gets none', first({ status: 'suspended', suspendedBy: 'holder' }), '2029-03-01T00:00:00Z', []],
    ['a card awaiting activation gets none', first({ status: 'on-hold-until-activated' }), '2028-12-31T00:00:00Z', []],
  ])('%s', (_label, certificate, now, expected) => {
    expect(kinds(certificate, at(now))).toEqual(expected);
  });

  it('applies the re-issuance notices to an expired, valid-at-expiry certificate', () => {
    expect(noticeApplies('reissuance-window-closing', renewed(), at('2033-02-01T00:00:00Z'))).toBe(true);
  });
});
