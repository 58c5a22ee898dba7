/**
 * Automatic revocation (DOMAIN.md): the household-registration system reports
 * a change of name or ID number, a death, a declaration of death or a loss of
 * nationality; each revokes the person's certificates. A restored household
 * registration is not an event here: it means a new application in person.
 */
import type { RevocationReason } from './revocation-reason';

/** An event reported by the household-registration system. */
export type HouseholdEventKind = 'name-change' | 'id-number-change' | 'death' | 'declaration-of-death' | 'loss-of-nationality';

/**
 * The RFC 5280 §5.3.1 reason for each event: changed identity data is
 * affiliationChanged; death ends the subject's use (cessationOfOperation);
 * loss of nationality withdraws the eligibility itself (privilegeWithdrawn).
 */
export const HOUSEHOLD_EVENT_REASONS: Readonly<Record<HouseholdEventKind, RevocationReason>> = {
  'name-change': 'affiliationChanged',
  'id-number-change': 'affiliationChanged',
  death: 'cessationOfOperation',
  'declaration-of-death': 'cessationOfOperation',
  'loss-of-nationality': 'privilegeWithdrawn',
};

/** The revocation reason for a household-registration event. */
export function revocationReasonForHouseholdEvent(kind: HouseholdEventKind): RevocationReason {
  return HOUSEHOLD_EVENT_REASONS[kind];
}
