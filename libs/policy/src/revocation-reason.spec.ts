import {
  CRL_REASON_CODES,
  HOLDER_GROUND_REASONS,
  revocationReasonPermitted,
  type HolderRevocationGround,
  type RevocationReason,
} from './revocation-reason';

describe('CRL reason codes (RFC 5280 §5.3.1)', () => {
  it.each([
    ['keyCompromise', 1],
    ['cACompromise', 2],
    ['affiliationChanged', 3],
    ['superseded', 4],
    ['cessationOfOperation', 5],
    ['certificateHold', 6],
    ['removeFromCRL', 8],
    ['privilegeWithdrawn', 9],
    ['unspecified', 0],
  ] as const)('%s = %i', (reason, code) => expect(CRL_REASON_CODES[reason]).toBe(code));
});

describe('holder grounds', () => {
  it.each<[HolderRevocationGround, RevocationReason]>([
    ['lost-card', 'keyCompromise'],
    ['key-compromise', 'keyCompromise'],
    ['suspected-key-compromise', 'keyCompromise'],
    ['identity-data-changed', 'affiliationChanged'],
    ['no-longer-needed', 'cessationOfOperation'],
    ['replaced-by-new-card', 'superseded'],
  ])('%s -> %s, which the holder may give in person', (ground, reason) => {
    expect(HOLDER_GROUND_REASONS[ground]).toBe(reason);
    expect(revocationReasonPermitted('holder-in-person', reason)).toBe(true);
  });

  it('lets a channel without revocation give no reason', () => {
    expect(revocationReasonPermitted('online-card-signature', 'keyCompromise')).toBe(false);
  });
});
