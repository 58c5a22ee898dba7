import type { CertificateFacts } from './certificate-facts';
import { revocationStatus } from './revocation-status';

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
const lastSecond = at('2026-06-15T01:29:59Z');
const expired = at('2026-06-15T01:30:00Z');

describe('revocationStatus', () => {
  it.each<[string, Partial<CertificateFacts>, Date, object]>([
    ['valid', {}, lastSecond, { status: 'good' }],
    ['valid, expired', {}, expired, { status: 'good' }],
    ['suspended by the holder', { status: 'suspended', suspendedBy: 'holder' }, lastSecond, { status: 'revoked', reason: 'certificateHold' }],
    ['suspended by a court', { status: 'suspended', suspendedBy: 'court-order' }, lastSecond, { status: 'revoked', reason: 'certificateHold' }],
    ['suspended, expired: the hold ended', { status: 'suspended', suspendedBy: 'holder' }, expired, { status: 'good' }],
    ['awaiting activation', { status: 'on-hold-until-activated' }, lastSecond, { status: 'revoked', reason: 'certificateHold' }],
    ['revoked', { status: 'revoked', revocationReason: 'keyCompromise' }, lastSecond, { status: 'revoked', reason: 'keyCompromise' }],
    ['revoked, expired', { status: 'revoked', revocationReason: 'privilegeWithdrawn' }, expired, { status: 'revoked', reason: 'privilegeWithdrawn' }],
    ['revoked without a recorded reason', { status: 'revoked' }, lastSecond, { status: 'revoked', reason: 'unspecified' }],
  ])('%s', (_label, facts, now, expected) => {
    expect(revocationStatus(certificate(facts), now)).toEqual(expected);
  });
});
