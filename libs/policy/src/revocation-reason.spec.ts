import {
  asRevocationReason,
  HOLDER_GROUND_REASONS,
  revocationReasonPermitted,
  type HolderRevocationGround,
  type RevocationReason,
} from './revocation-reason';

describe('revocation reasons among the CRL reasons (RFC 5280 §5.3.1)', () => {
  it.each(['keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'])(
    '%s is a revocation reason',
    (reason) => expect(asRevocationReason(reason)).toBe(reason),
  );
  it.each([['certificateHold'], ['removeFromCRL'], ['unspecified'], ['aACompromise'], ['KeyCompromise'], [undefined]])(
    '%s is not',
    (reason) => expect(asRevocationReason(reason)).toBeUndefined(),
  );
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
