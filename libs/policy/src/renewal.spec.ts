import type { CertificateFacts } from './certificate-facts';
import type { Channel } from './delegation';
import { decideRenewal, renewalWindow } from './renewal';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;
const shift = (iso: string, ms: number) => new Date(at(iso).getTime() + ms);

/** One day and one second before and after a boundary, and the boundary itself. */
function edges(boundary: string, before: string | null, after: string | null): [string, Date, string | null][] {
  return [
    [`${boundary} - 1 day`, shift(boundary, -DAY), before],
    [`${boundary} - 1 s`, shift(boundary, -1000), before],
    [`${boundary}`, at(boundary), after],
    [`${boundary} + 1 s`, shift(boundary, 1000), after],
    [`${boundary} + 1 day`, shift(boundary, DAY), after],
  ];
}

const CARDS = {
  // Issued 2021-06-15 09:30 Taiwan; 5-year end 2026-06-15T01:30Z; cap 2029-06-15T01:30Z.
  ordinary: { issuedAt: '2021-06-15T01:30:00Z', opens: '2026-04-16T01:30:00Z', closes: '2029-06-15T01:30:00Z', capLast: '2029-06-15T01:29:59Z' },
  // Issued on the leap day 2024-02-29 10:00 Taiwan; 5-year end 2029-02-28; cap 2032-02-29.
  leapDay: { issuedAt: '2024-02-29T02:00:00Z', opens: '2028-12-30T02:00:00Z', closes: '2032-02-29T02:00:00Z', capLast: '2032-02-29T01:59:59Z' },
};

function firstCertificate(issuedAt: string, facts: Partial<CertificateFacts> = {}): CertificateFacts {
  const first = at(issuedAt);
  return {
    cardIssuedAt: first,
    notBefore: first,
    notAfter: new Date(renewalWindow(first).opensAt.getTime() + 60 * DAY - 1000),
    status: 'valid',
    suspendedBy: null,
    revocationReason: null,
    isRenewal: false,
    ...facts,
  };
}

describe.each(Object.entries(CARDS))('renewal window of the %s card', (_name, card) => {
  it('opens 60 days before the 5-year expiry and closes at the cap', () => {
    const window = renewalWindow(at(card.issuedAt));
    expect(window.opensAt).toEqual(at(card.opens));
    expect(window.closesAt).toEqual(at(card.closes));
  });

  it.each([
    ...edges(card.opens, 'renewal-window-not-open', null),
    ...edges(card.closes, null, 'renewal-window-closed'),
  ])('online renewal at %s: %s', (_label, now, code) => {
    const decision = decideRenewal(firstCertificate(card.issuedAt), 'online-card-signature', now);
    if (code !== null) {
      expect(decision).toMatchObject({ allowed: false, code });
      return;
    }
    // The renewed certificate starts now and ends at the card's 8-year cap.
    expect(decision).toEqual({ allowed: true, validity: { notBefore: now, notAfter: at(card.capLast) } });
  });
});

describe('decideRenewal', () => {
  const card = CARDS.leapDay;
  const inWindow = at('2029-01-15T00:00:00Z');
  const afterExpiry = at('2030-01-15T00:00:00Z');

  it.each<[string, Partial<CertificateFacts>, Channel, Date, string | null]>([
    ['at the counter', {}, 'holder-in-person', inWindow, null],
    ['by a delegate with the card', {}, 'delegate-with-card', inWindow, null],
    ['after expiry, within 3 years', {}, 'online-card-signature', afterExpiry, null],
    ['by a delegate without the card', {}, 'delegate-without-card', inWindow, 'holder-card-required'],
    ['online with the user code', {}, 'online-user-code', inWindow, 'card-signature-required'],
    ['revoked', { status: 'revoked', revocationReason: 'keyCompromise' }, 'holder-in-person', inWindow, 'certificate-revoked'],
    ['revoked, outside the window', { status: 'revoked', revocationReason: 'keyCompromise' }, 'holder-in-person', at('2025-01-01T00:00:00Z'), 'certificate-revoked'],
    ['a renewal', { isRenewal: true, notAfter: at(card.capLast) }, 'online-card-signature', inWindow, 'already-renewed'],
    ['suspended', { status: 'suspended', suspendedBy: 'holder' }, 'online-card-signature', inWindow, 'certificate-suspended'],
    ['expired while suspended', { status: 'suspended', suspendedBy: 'holder' }, 'online-card-signature', afterExpiry, 'suspended-at-expiry'],
    ['a re-issued card awaiting activation', { status: 'on-hold-until-activated' }, 'online-card-signature', inWindow, 'certificate-not-activated'],
    ['before its notBefore', { notBefore: at('2029-02-01T00:00:00Z') }, 'online-card-signature', inWindow, 'certificate-not-yet-valid'],
  ])('%s', (_label, facts, channel, now, code) => {
    const decision = decideRenewal(firstCertificate(card.issuedAt, facts), channel, now);
    if (code === null) expect(decision).toMatchObject({ allowed: true, validity: { notAfter: at(card.capLast) } });
    else expect(decision).toMatchObject({ allowed: false, code });
  });

  it('truncates the renewal instant to the second', () => {
    const decision = decideRenewal(firstCertificate(card.issuedAt), 'holder-in-person', at('2029-01-15T00:00:00.900Z'));
    expect(decision).toMatchObject({ allowed: true, validity: { notBefore: at('2029-01-15T00:00:00Z') } });
  });
});
