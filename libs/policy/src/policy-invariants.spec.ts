/**
 * Property-based tests (fast-check) of the invariants of libs/policy:
 * no decision yields a notAfter past the 8-year cap; a renewal never extends
 * another renewal; nothing is allowed on a revoked certificate; every refusal
 * carries a known reason code and a detail.
 */
import fc from 'fast-check';
import { checkApplication, type ApplicationRequest } from './application';
import { cardLifetime } from './card-lifetime';
import type { CertificateFacts } from './certificate-facts';
import { decideTransition, type LifecycleEvent } from './certificate-state';
import { newCertificateValidity } from './certificate-validity';
import type { Decision } from './decision';
import { ALL_CHANNELS, ALL_OPERATIONS, channelPermits } from './delegation';
import { checkEightYearCap } from './eight-year-cap';
import { decideHolderService, emailCertificateValidity, type HolderServiceOperation } from './holder-service';
import { noticesDue } from './notice-schedule';
import { ALL_REASON_CODES } from './reason-code';
import { decideOnlineReissuance } from './reissuance';
import { decideRenewal } from './renewal';
import type { RevocationReason } from './revocation-reason';
import { checkUserCode } from './user-code';

const YEAR = 365.25 * 86_400_000;
const instant = (min: string, max: string) => fc.date({ min: new Date(min), max: new Date(max), noInvalidDate: true });

const channel = fc.constantFrom(...ALL_CHANNELS);
const reason = fc.constantFrom<RevocationReason>(
  'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn',
);
const event: fc.Arbitrary<LifecycleEvent> = fc.oneof(
  fc.constantFrom<LifecycleEvent>({ kind: 'activate' }, { kind: 'suspend' }, { kind: 'resume' }),
  reason.map((r): LifecycleEvent => ({ kind: 'revoke', reason: r })),
);
const service = fc.constantFrom<HolderServiceOperation>(
  'user-code-reset', 'change-mobile-number', 'change-publication-status', 'change-contact-email', 'add-email-to-certificate',
);

/** A certificate of a card issued 2000-2060, consistent with the cap, in any status. */
const certificate: fc.Arbitrary<CertificateFacts> = fc
  .record({
    cardIssuedAt: instant('2000-01-01T00:00:00Z', '2060-12-31T23:59:59Z'),
    startOffset: fc.double({ min: 0, max: 1, noNaN: true }),
    lengthShare: fc.double({ min: 0, max: 1, noNaN: true }),
    status: fc.constantFrom<CertificateFacts['status']>('on-hold-until-activated', 'valid', 'suspended', 'revoked'),
    suspendedBy: fc.constantFrom<CertificateFacts['suspendedBy']>('holder', 'court-order'),
    revocationReason: reason,
    isRenewal: fc.boolean(),
  })
  .map(({ cardIssuedAt, startOffset, lengthShare, status, suspendedBy, revocationReason, isRenewal }) => {
    const life = cardLifetime(cardIssuedAt);
    const span = life.capLastSecond.getTime() - life.issuedAt.getTime();
    const notBefore = new Date(life.issuedAt.getTime() + Math.floor((startOffset * span) / 1000) * 1000);
    const notAfter = new Date(
      notBefore.getTime() + Math.floor((lengthShare * (life.capLastSecond.getTime() - notBefore.getTime())) / 1000) * 1000,
    );
    return {
      cardIssuedAt,
      notBefore,
      notAfter,
      status,
      suspendedBy: status === 'suspended' ? suspendedBy : null,
      revocationReason: status === 'revoked' ? revocationReason : null,
      isRenewal,
    };
  });

/** `now` anywhere from a year before the card to two years after its re-issuance window. */
const nowFor = (facts: CertificateFacts) =>
  fc
    .double({ min: -1 * YEAR, max: 11 * YEAR, noNaN: true })
    .map((offset) => new Date(facts.cardIssuedAt.getTime() + Math.round(offset)));
const certificateAndNow = certificate.chain((facts) => nowFor(facts).map((now) => ({ facts, now })));

function everyDecision(facts: CertificateFacts, now: Date, via: (typeof ALL_CHANNELS)[number], lifecycle: LifecycleEvent, op: HolderServiceOperation): Decision[] {
  return [
    decideRenewal(facts, via, now),
    decideOnlineReissuance(facts, via, now),
    decideTransition(facts, lifecycle, via, now),
    decideHolderService(op, facts, via, now),
    emailCertificateValidity(facts, now),
    newCertificateValidity(facts.cardIssuedAt),
  ];
}

const runs = { numRuns: 500 };

describe('policy invariants', () => {
  it('no decision yields a notAfter past the 8-year cap, nor a validity out of the card life', () => {
    fc.assert(
      fc.property(certificateAndNow, channel, event, service, ({ facts, now }, via, lifecycle, op) => {
        const life = cardLifetime(facts.cardIssuedAt);
        for (const decision of everyDecision(facts, now, via, lifecycle, op)) {
          if (decision.allowed && 'validity' in decision) {
            const { validity } = decision as { validity: { notBefore: Date; notAfter: Date } };
            expect(validity.notAfter.getTime()).toBeLessThanOrEqual(life.capLastSecond.getTime());
            expect(validity.notAfter.getTime()).toBeLessThan(life.capEnd.getTime());
            expect(validity.notBefore.getTime()).toBeGreaterThanOrEqual(life.issuedAt.getTime());
            expect(validity.notBefore.getTime()).toBeLessThanOrEqual(validity.notAfter.getTime());
          }
        }
      }),
      runs,
    );
  });

  it('the cap check refuses any proposed validity past the cap', () => {
    fc.assert(
      fc.property(
        instant('2000-01-01T00:00:00Z', '2060-12-31T23:59:59Z'),
        instant('1999-01-01T00:00:00Z', '2080-12-31T23:59:59Z'),
        instant('1999-01-01T00:00:00Z', '2080-12-31T23:59:59Z'),
        (issuedAt, notBefore, notAfter) => {
          const decision = checkEightYearCap(issuedAt, { notBefore, notAfter });
          const capLast = cardLifetime(issuedAt).capLastSecond.getTime();
          if (Math.floor(notAfter.getTime() / 1000) * 1000 > capLast) expect(decision.allowed).toBe(false);
          if (decision.allowed) expect(decision.validity.notAfter.getTime()).toBeLessThanOrEqual(capLast);
        },
      ),
      runs,
    );
  });

  it('a renewal never extends another renewal', () => {
    fc.assert(
      fc.property(certificateAndNow, channel, ({ facts, now }, via) => {
        const decision = decideRenewal(facts, via, now);
        if (facts.isRenewal) expect(decision.allowed).toBe(false);
        if (!decision.allowed) return;
        // The renewed certificate runs to the cap, and cannot itself be renewed.
        expect(decision.validity.notAfter).toEqual(cardLifetime(facts.cardIssuedAt).capLastSecond);
        const renewed: CertificateFacts = { ...facts, ...decision.validity, isRenewal: true, status: 'valid' };
        for (const later of [now, new Date(now.getTime() + YEAR)]) {
          expect(decideRenewal(renewed, via, later)).toMatchObject({ allowed: false });
        }
      }),
      runs,
    );
  });

  it('within the window, a valid first certificate renews to exactly the cap, once', () => {
    const firstAndNow = fc
      .record({
        cardIssuedAt: instant('2000-01-01T00:00:00Z', '2060-12-31T23:59:59Z'),
        share: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        via: fc.constantFrom('holder-in-person', 'delegate-with-card', 'online-card-signature' as const),
      })
      .map(({ cardIssuedAt, share, via }) => {
        const life = cardLifetime(cardIssuedAt);
        const { opensAt, closesAt } = life.renewal;
        const now = new Date(opensAt.getTime() + Math.floor(share * (closesAt.getTime() - opensAt.getTime())));
        const facts: CertificateFacts = {
          cardIssuedAt, notBefore: life.issuedAt, notAfter: new Date(life.fiveYearEnd.getTime() - 1000),
          status: 'valid', suspendedBy: null, revocationReason: null, isRenewal: false,
        };
        return { facts, now, via, capLast: life.capLastSecond };
      });
    fc.assert(
      fc.property(firstAndNow, ({ facts, now, via, capLast }) => {
        const decision = decideRenewal(facts, via, now);
        expect(decision).toMatchObject({ allowed: true, validity: { notAfter: capLast } });
        if (!decision.allowed) return;
        const renewed: CertificateFacts = { ...facts, ...decision.validity, isRenewal: true };
        expect(decideRenewal(renewed, via, now)).toMatchObject({ allowed: false, code: 'already-renewed' });
      }),
      runs,
    );
  });

  it('nothing is allowed on a revoked certificate', () => {
    fc.assert(
      fc.property(certificateAndNow, channel, event, service, ({ facts, now }, via, lifecycle, op) => {
        const revoked: CertificateFacts = { ...facts, status: 'revoked', revocationReason: 'keyCompromise', suspendedBy: null };
        // The first four are the decisions on a certificate; the last two only compute validities.
        for (const decision of everyDecision(revoked, now, via, lifecycle, op).slice(0, 4)) {
          expect(decision.allowed).toBe(false);
        }
        expect(noticesDue(revoked, now)).toEqual([]);
      }),
      runs,
    );
  });

  it('every refusal carries a known reason code and a detail', () => {
    const known = new Set<string>(ALL_REASON_CODES);
    const check = (decision: Decision) => {
      if (!decision.allowed) {
        expect(known.has(decision.code)).toBe(true);
        expect(decision.detail.length).toBeGreaterThan(0);
      }
    };
    fc.assert(
      fc.property(certificateAndNow, channel, event, service, ({ facts, now }, via, lifecycle, op) => {
        everyDecision(facts, now, via, lifecycle, op).forEach(check);
      }),
      runs,
    );
    for (const operation of ALL_OPERATIONS) for (const via of ALL_CHANNELS) check(channelPermits(operation, via));
    const text = fc.string({ unit: 'binary', maxLength: 14 });
    const application: fc.Arbitrary<ApplicationRequest> = fc.record({
      idNumber: fc.oneof(text, fc.stringMatching(/^[A-Z][1289]\d{8}$/)),
      dateOfBirth: fc.record({ year: fc.integer({ min: 1880, max: 2030 }), month: fc.integer({ min: 0, max: 13 }), day: fc.integer({ min: 0, max: 32 }) }),
      name: text,
      mobileNumber: fc.oneof(text, fc.stringMatching(/^09\d{8}$/)),
      email: fc.oneof(text, fc.emailAddress()),
      hasHouseholdRegistration: fc.boolean(),
      underGuardianship: fc.boolean(),
      userCode: text,
      feePaidNtd: fc.oneof(fc.constant(null), fc.integer({ min: -10, max: 500 })),
    });
    fc.assert(
      fc.property(application, instant('2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z'), (request, now) => {
        check(checkApplication(request, now));
      }),
      runs,
    );
  });

  it('a user code is accepted exactly when it is 6 to 10 printable ASCII characters without space', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme-ascii', maxLength: 12 })), (code) => {
        expect(checkUserCode(code).allowed).toBe(/^[\x21-\x7e]{6,10}$/.test(code));
      }),
      runs,
    );
  });
});
