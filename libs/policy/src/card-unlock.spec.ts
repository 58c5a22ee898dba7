import type { CertificateFacts } from './certificate-facts';
import { decideCardUnlock } from './card-unlock';

const NOW = new Date('2027-01-10T00:00:00Z');
const base: CertificateFacts = {
  cardIssuedAt: new Date('2026-01-10T00:00:00Z'),
  notBefore: new Date('2026-01-10T00:00:00Z'),
  notAfter: new Date('2031-01-09T15:59:59Z'),
  status: 'valid',
  suspendedBy: null,
  revocationReason: null,
  isRenewal: false,
};
const revoked: CertificateFacts = { ...base, status: 'revoked', revocationReason: 'keyCompromise' };
const suspended: CertificateFacts = { ...base, status: 'suspended', suspendedBy: 'holder' };
const expired: CertificateFacts = { ...base, notAfter: new Date('2026-12-31T00:00:00Z') };
const onHold: CertificateFacts = { ...base, status: 'on-hold-until-activated' };

describe('decideCardUnlock', () => {
  it.each<[string, CertificateFacts[], boolean]>([
    ['valid certificates', [base, base], true],
    ['suspended certificates (resumption needs the PIN)', [suspended, suspended], true],
    ['expired certificates (online renewal needs the PIN)', [expired, expired], true],
    ['a re-issued card waiting for activation', [onHold, onHold], true],
    ['an old revoked certificate beside a valid renewal', [revoked, base], true],
    ['every certificate revoked', [revoked, revoked], false],
  ])('%s: allowed %s', (_name, certificates, allowed) => {
    const decision = decideCardUnlock(certificates, NOW);
    expect(decision.allowed).toBe(allowed);
    if (!decision.allowed) expect(decision.code).toBe('card-revoked');
  });
});
