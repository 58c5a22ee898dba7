import { HOUSEHOLD_EVENT_REASONS, revocationReasonForHouseholdEvent, type HouseholdEventKind } from './household-event';
import { revocationReasonPermitted, type RevocationReason } from './revocation-reason';

describe('household-registration events', () => {
  it.each<[HouseholdEventKind, RevocationReason]>([
    ['name-change', 'affiliationChanged'],
    ['id-number-change', 'affiliationChanged'],
    ['death', 'cessationOfOperation'],
    ['declaration-of-death', 'cessationOfOperation'],
    ['loss-of-nationality', 'privilegeWithdrawn'],
  ])('%s revokes with %s', (kind, reason) => {
    expect(revocationReasonForHouseholdEvent(kind)).toBe(reason);
    expect(revocationReasonPermitted('household-registration-event', reason)).toBe(true);
  });

  it('has exactly the five events of DOMAIN.md', () => {
    expect(Object.keys(HOUSEHOLD_EVENT_REASONS)).toHaveLength(5);
  });
});
