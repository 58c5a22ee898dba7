import type { CertificateFacts } from './certificate-facts';
import type { Channel } from './delegation';
import { decideOnlineReissuance, reissuanceWindow } from './reissuance';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;
const shift = (iso: string, ms: number) => new Date(at(iso).getTime() + ms);

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
  ordinary: { issuedAt: '2021-06-15T01:30:00Z', capLast: '2029-06-15T01:29:59Z', opens: '2029-04-16T01:30:00Z', closes: '2030-06-15T01:30:00Z' },
  leapDay: { issuedAt: '2024-02-29T02:00:00Z', capLast: '2032-02-29T01:59:59Z', opens: '2031-12-31T02:00:00Z', closes: '2033-02-28T02:00:00Z' },
};

/** The renewed certificate of the card: it runs to the cap. */
function renewed(card: (typeof CARDS)['leapDay'], facts: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    cardIssuedAt: at(card.issuedAt),
    notBefore: at('2029-01-01T00:00:00Z'),
    notAfter: at(card.capLast),
    status: 'valid',
    suspendedBy: null,
    revocationReason: null,
    isRenewal: true,
    ...facts,
  };
}

describe.each(Object.entries(CARDS))('online re-issuance window of the %s card', (_name, card) => {
  it('opens 60 days before the cap and closes 1 year after it', () => {
    expect(reissuanceWindow(at(card.issuedAt))).toEqual({ opensAt: at(card.opens), closesAt: at(card.closes) });
  });

  it.each([
    ...edges(card.opens, 'reissuance-window-not-open', null),
    ...edges(card.capLast, null, null),
    ...edges(card.closes, null, 'reissuance-window-closed'),
  ])('at %s: %s', (_label, now, code) => {
    const decision = decideOnlineReissuance(renewed(card), 'online-card-signature', now);
    if (code === null) expect(decision.allowed).toBe(true);
    else expect(decision).toMatchObject({ allowed: false, code });
  });
});

describe('decideOnlineReissuance', () => {
  const card = CARDS.leapDay;
  const beforeCap = at('2032-01-15T00:00:00Z');
  const afterCap = at('2032-06-01T00:00:00Z');
  it.each<[string, Partial<CertificateFacts>, Channel, Date, string | null]>([
    ['valid just before expiry, applied after it', {}, 'online-card-signature', afterCap, null],
    ['an unrenewed certificate that lapsed at 5 years while valid', { isRenewal: false, notAfter: at('2029-02-28T01:59:59Z') }, 'online-card-signature', beforeCap, null],
    ['at the counter', {}, 'holder-in-person', beforeCap, 'online-only'],
    ['with the user code', {}, 'online-user-code', beforeCap, 'card-signature-required'],
    ['revoked', { status: 'revoked', revocationReason: 'keyCompromise' }, 'online-card-signature', beforeCap, 'certificate-revoked'],
    ['revoked after expiry (death reported late)', { status: 'revoked', revocationReason: 'cessationOfOperation' }, 'online-card-signature', afterCap, 'certificate-revoked'],
    ['suspended now', { status: 'suspended', suspendedBy: 'holder' }, 'online-card-signature', beforeCap, 'certificate-suspended'],
    ['suspended when it expired', { status: 'suspended', suspendedBy: 'court-order' }, 'online-card-signature', afterCap, 'suspended-at-expiry'],
    ['never activated', { status: 'on-hold-until-activated' }, 'online-card-signature', afterCap, 'certificate-not-activated'],
    ['not yet valid', { notBefore: at('2032-02-01T00:00:00Z') }, 'online-card-signature', beforeCap, 'certificate-not-yet-valid'],
  ])('%s', (_label, facts, channel, now, code) => {
    const decision = decideOnlineReissuance(renewed(card, facts), channel, now);
    if (code === null) expect(decision).toMatchObject({ allowed: true, window: { opensAt: at(card.opens) } });
    else expect(decision).toMatchObject({ allowed: false, code });
  });
});
