/**
 * Revocation reasons (DOMAIN.md "Suspension, resumption, revocation") by
 * their RFC 5280 §5.3.1 names. Suspension is certificateHold; resumption
 * removes the entry (removeFromCRL in a delta CRL). The numeric CRLReason
 * codes are an encoding matter and live in one table in libs/pki
 * (crlReasonCode / crlReasonFromCode).
 */
import type { Channel } from './delegation';

/** A revocation reason, named as in RFC 5280 §5.3.1. */
export type RevocationReason =
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'privilegeWithdrawn';

/** A CRL entry reason (RFC 5280 §5.3.1): a revocation reason, a hold, its removal, or none recorded. */
export type CrlReason = RevocationReason | 'certificateHold' | 'removeFromCRL' | 'unspecified';

const REVOCATION_REASONS: ReadonlySet<string> = new Set<RevocationReason>([
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
]);

/** The revocation reason a CRL reason name stands for, or undefined for a hold, its removal, unspecified or another name. */
export function asRevocationReason(reason: string | undefined): RevocationReason | undefined {
  return reason !== undefined && REVOCATION_REASONS.has(reason) ? (reason as RevocationReason) : undefined;
}

/** The grounds a holder gives at the counter (DOMAIN.md, leaflet 作業基準 4.4). */
export type HolderRevocationGround =
  | 'lost-card'
  | 'key-compromise'
  | 'suspected-key-compromise'
  | 'identity-data-changed'
  | 'no-longer-needed'
  | 'replaced-by-new-card';

/**
 * Holder grounds to RFC 5280 reasons. A lost card is a key compromise: whoever
 * holds it may use the key (DOMAIN.md: revoke at once).
 */
export const HOLDER_GROUND_REASONS: Readonly<Record<HolderRevocationGround, RevocationReason>> = {
  'lost-card': 'keyCompromise',
  'key-compromise': 'keyCompromise',
  'suspected-key-compromise': 'keyCompromise',
  'identity-data-changed': 'affiliationChanged',
  'no-longer-needed': 'cessationOfOperation',
  'replaced-by-new-card': 'superseded',
};

/**
 * Which reasons each revoking channel may give. A CA operator revokes for CA
 * compromise only (it never revokes on a holder's behalf); the
 * household-registration system with its event reasons (household-event.ts).
 */
export const REVOCATION_REASONS_BY_CHANNEL: Readonly<Partial<Record<Channel, readonly RevocationReason[]>>> = {
  'holder-in-person': ['keyCompromise', 'affiliationChanged', 'cessationOfOperation', 'superseded'],
  operator: ['cACompromise'],
  'household-registration-event': ['affiliationChanged', 'cessationOfOperation', 'privilegeWithdrawn'],
};

/** True when `channel` may revoke for `reason`. */
export function revocationReasonPermitted(channel: Channel, reason: RevocationReason): boolean {
  return (REVOCATION_REASONS_BY_CHANNEL[channel] ?? []).includes(reason);
}
