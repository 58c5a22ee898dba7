import type { CertificateFacts } from './certificate-facts';
import { decideTransition, effectiveState, type LifecycleEvent } from './certificate-state';
import type { Channel } from './delegation';

const at = (iso: string) => new Date(iso);
const certificate = (facts: Partial<CertificateFacts> = {}): CertificateFacts => ({
  cardIssuedAt: at('2021-06-15T01:30:00Z'),
  notBefore: at('2021-06-15T01:30:00Z'),
  notAfter: at('2026-06-15T01:29:59Z'),
  status: 'valid',
  suspendedBy: null,
  revocationReason: null,
  isRenewal: false,
  ...facts,
});
const now = at('2024-01-01T00:00:00Z');
const suspendedByHolder = certificate({ status: 'suspended', suspendedBy: 'holder' });
const suspendedByCourt = certificate({ status: 'suspended', suspendedBy: 'court-order' });
const onHold = certificate({ status: 'on-hold-until-activated' });
const revoked = certificate({ status: 'revoked', revocationReason: 'keyCompromise' });

describe('effectiveState', () => {
  it.each([
    ['valid, one day before notAfter', certificate(), '2026-06-14T01:29:59Z', 'valid'],
    ['valid', certificate(), '2026-06-15T01:29:59Z', 'valid'],
    ['valid, one day after notAfter', certificate(), '2026-06-16T01:29:59Z', 'expired'],
    ['suspended, one day before expiry', suspendedByHolder, '2026-06-14T01:30:00Z', 'suspended'],
    ['suspended, one day after expiry', suspendedByHolder, '2026-06-16T01:30:00Z', 'expired'],
    ['valid, one second after notAfter', certificate(), '2026-06-15T01:30:00Z', 'expired'],
    ['suspended before expiry', suspendedByHolder, '2026-06-15T01:29:59Z', 'suspended'],
    ['suspended: a suspension lasts at most until expiry', suspendedByHolder, '2026-06-15T01:30:00Z', 'expired'],
    ['revoked, even after expiry', revoked, '2031-01-01T00:00:00Z', 'revoked'],
    ['one second before notBefore', certificate(), '2021-06-15T01:29:59Z', 'not-yet-valid'],
    ['at notBefore', certificate(), '2021-06-15T01:30:00Z', 'valid'],
    ['awaiting activation', onHold, '2024-01-01T00:00:00Z', 'on-hold-until-activated'],
  ])('%s', (_label, facts, instant, state) => {
    expect(effectiveState(facts, at(instant))).toBe(state);
  });

  it('refuses an invalid now', () => {
    expect(() => effectiveState(certificate(), at('nope'))).toThrow(RangeError);
  });
});

const suspend: LifecycleEvent = { kind: 'suspend' };
const resume: LifecycleEvent = { kind: 'resume' };
const activate: LifecycleEvent = { kind: 'activate' };
const revokeFor = (reason: Extract<LifecycleEvent, { kind: 'revoke' }>['reason']): LifecycleEvent => ({ kind: 'revoke', reason });
const expiredAt = at('2026-06-15T01:30:00Z');

describe('decideTransition: allowed', () => {
  it.each<[string, CertificateFacts, LifecycleEvent, Channel, Date, object]>([
    ['holder suspends online with the user code', certificate(), suspend, 'online-user-code', now,
      { from: 'valid', to: 'suspended', suspendedBy: 'holder', crlReason: 'certificateHold' }],
    ['a delegate without the card suspends', certificate(), suspend, 'delegate-without-card', now,
      { to: 'suspended', suspendedBy: 'holder' }],
    ['a court orders a suspension', certificate(), suspend, 'court-order', now,
      { to: 'suspended', suspendedBy: 'court-order', crlReason: 'certificateHold' }],
    ["a court takes over the holder's suspension", suspendedByHolder, suspend, 'court-order', now,
      { from: 'suspended', to: 'suspended', suspendedBy: 'court-order' }],
    ['holder resumes at the counter', suspendedByHolder, resume, 'holder-in-person', now,
      { from: 'suspended', to: 'valid', suspendedBy: null, crlReason: 'removeFromCRL' }],
    ['holder resumes online one second before expiry', suspendedByHolder, resume, 'online-user-code', at('2026-06-15T01:29:59Z'),
      { to: 'valid' }],
    ['a court lifts its suspension', suspendedByCourt, resume, 'court-order', now, { to: 'valid' }],
    ['holder activates a re-issued card', onHold, activate, 'online-card-signature', now,
      { from: 'on-hold-until-activated', to: 'valid', crlReason: 'removeFromCRL' }],
    ['holder revokes a lost card in person', certificate(), revokeFor('keyCompromise'), 'holder-in-person', now,
      { to: 'revoked', revocationReason: 'keyCompromise', crlReason: 'keyCompromise' }],
    ['holder revokes a suspended certificate', suspendedByHolder, revokeFor('cessationOfOperation'), 'holder-in-person', now,
      { from: 'suspended', to: 'revoked' }],
    ['holder revokes an expired, still renewable certificate', certificate(), revokeFor('superseded'), 'holder-in-person', expiredAt,
      { from: 'expired', to: 'revoked', crlReason: 'superseded' }],
    ['household registration revokes on death', certificate(), revokeFor('cessationOfOperation'), 'household-registration-event', now,
      { to: 'revoked' }],
    ['household registration revokes a card in the mail', onHold, revokeFor('affiliationChanged'), 'household-registration-event', now,
      { from: 'on-hold-until-activated', to: 'revoked' }],
    ['an operator revokes for CA compromise', certificate(), revokeFor('cACompromise'), 'operator', now,
      { to: 'revoked', crlReason: 'cACompromise' }],
  ])('%s', (_label, facts, event, channel, instant, transition) => {
    const decision = decideTransition(facts, event, channel, instant);
    expect(decision).toMatchObject({ allowed: true, transition });
  });
});

describe('decideTransition: refused', () => {
  it.each<[string, CertificateFacts, LifecycleEvent, Channel, Date, string]>([
    ['suspend with a card signature instead of the user code', certificate(), suspend, 'online-card-signature', now, 'user-code-required'],
    ['an operator suspends', certificate(), suspend, 'operator', now, 'channel-not-permitted'],
    ['suspend twice', suspendedByHolder, suspend, 'online-user-code', now, 'certificate-suspended'],
    ['a second court order', suspendedByCourt, suspend, 'court-order', now, 'certificate-suspended'],
    ['suspend after expiry', certificate(), suspend, 'online-user-code', expiredAt, 'certificate-expired'],
    ['a court suspends after expiry', certificate(), suspend, 'court-order', expiredAt, 'certificate-expired'],
    ['suspend a card awaiting activation', onHold, suspend, 'holder-in-person', now, 'certificate-not-activated'],
    ['suspend before notBefore', certificate(), suspend, 'holder-in-person', at('2021-06-15T01:29:59Z'), 'certificate-not-yet-valid'],
    ['suspend a revoked certificate', revoked, suspend, 'holder-in-person', now, 'certificate-revoked'],
    ['resume a valid certificate', certificate(), resume, 'online-user-code', now, 'certificate-not-suspended'],
    ['resume after expiry: the suspension ended with it', suspendedByHolder, resume, 'online-user-code', expiredAt, 'certificate-expired'],
    ["holder lifts a court's suspension", suspendedByCourt, resume, 'online-user-code', now, 'suspension-ordered-by-court'],
    ["a court lifts the holder's suspension", suspendedByHolder, resume, 'court-order', now, 'suspension-not-ordered-by-court'],
    ['resume a revoked certificate', revoked, resume, 'holder-in-person', now, 'certificate-revoked'],
    ['activate a valid certificate', certificate(), activate, 'online-card-signature', now, 'certificate-already-activated'],
    ['activate a suspended certificate', suspendedByHolder, activate, 'online-card-signature', now, 'certificate-already-activated'],
    ['activate after expiry', onHold, activate, 'online-card-signature', expiredAt, 'certificate-expired'],
    ['activate at the counter', onHold, activate, 'holder-in-person', now, 'online-only'],
    ['revoke online', certificate(), revokeFor('keyCompromise'), 'online-card-signature', now, 'not-available-online'],
    ['a delegate revokes', certificate(), revokeFor('keyCompromise'), 'delegate-with-card', now, 'delegate-not-permitted'],
    ['a court revokes', certificate(), revokeFor('keyCompromise'), 'court-order', now, 'channel-not-permitted'],
    ['an operator revokes for key compromise', certificate(), revokeFor('keyCompromise'), 'operator', now, 'revocation-reason-not-permitted'],
    ['the holder claims CA compromise', certificate(), revokeFor('cACompromise'), 'holder-in-person', now, 'revocation-reason-not-permitted'],
    ['household registration gives superseded', certificate(), revokeFor('superseded'), 'household-registration-event', now, 'revocation-reason-not-permitted'],
    ['revoke twice: revocation is final', revoked, revokeFor('keyCompromise'), 'holder-in-person', now, 'certificate-revoked'],
  ])('%s', (_label, facts, event, channel, instant, code) => {
    expect(decideTransition(facts, event, channel, instant)).toMatchObject({ allowed: false, code });
  });
});
