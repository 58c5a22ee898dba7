import type { CertificateFacts } from './certificate-facts';
import type { Channel } from './delegation';
import { decideHolderService, emailCertificateValidity, type HolderServiceOperation } from './holder-service';

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
const expired = at('2027-01-01T00:00:00Z');

describe('decideHolderService', () => {
  it.each<[string, HolderServiceOperation, Partial<CertificateFacts>, Channel, Date, string | null]>([
    ['user code reset online', 'user-code-reset', {}, 'online-card-signature', now, null],
    ['user code reset after expiry (the card may still be renewed)', 'user-code-reset', {}, 'holder-in-person', expired, null],
    ['user code reset while suspended', 'user-code-reset', { status: 'suspended', suspendedBy: 'holder' }, 'delegate-with-card', now, null],
    ['mobile number change by a delegate with the card', 'change-mobile-number', {}, 'delegate-with-card', now, null],
    ['publication status at the counter', 'change-publication-status', {}, 'holder-in-person', now, null],
    ['contact e-mail after expiry', 'change-contact-email', {}, 'holder-in-person', expired, null],
    ['e-mail into a certificate', 'add-email-to-certificate', {}, 'online-card-signature', now, null],
    ['contact e-mail online', 'change-contact-email', {}, 'online-card-signature', now, 'not-available-online'],
    ['mobile number by a delegate without the card', 'change-mobile-number', {}, 'delegate-without-card', now, 'holder-card-required'],
    ['user code reset on a revoked certificate', 'user-code-reset', { status: 'revoked', revocationReason: 'keyCompromise' }, 'holder-in-person', now, 'certificate-revoked'],
    ['e-mail into a suspended certificate', 'add-email-to-certificate', { status: 'suspended', suspendedBy: 'holder' }, 'online-card-signature', now, 'certificate-suspended'],
    ['e-mail into an expired certificate', 'add-email-to-certificate', {}, 'online-card-signature', expired, 'certificate-expired'],
    ['e-mail into a card awaiting activation', 'add-email-to-certificate', { status: 'on-hold-until-activated' }, 'online-card-signature', now, 'certificate-not-activated'],
  ])('%s', (_label, operation, facts, channel, instant, code) => {
    const decision = decideHolderService(operation, certificate(facts), channel, instant);
    if (code === null) expect(decision).toEqual({ allowed: true });
    else expect(decision).toMatchObject({ allowed: false, code });
  });
});

describe('emailCertificateValidity', () => {
  it('runs from now to the replaced certificate’s notAfter', () => {
    expect(emailCertificateValidity(certificate(), at('2024-01-01T00:00:00.500Z'))).toEqual({
      allowed: true,
      validity: { notBefore: at('2024-01-01T00:00:00Z'), notAfter: at('2026-06-15T01:29:59Z') },
    });
  });

  it('refuses a replaced certificate that would break the cap', () => {
    const broken = certificate({ notAfter: at('2029-06-15T01:30:00Z') });
    expect(emailCertificateValidity(broken, now)).toMatchObject({ allowed: false, code: 'exceeds-eight-year-cap' });
  });
});
