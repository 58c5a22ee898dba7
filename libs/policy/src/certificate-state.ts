/**
 * The certificate state machine (DOMAIN.md "Suspension, resumption,
 * revocation"; CPS 4.4). Stored states: on-hold-until-activated, valid,
 * suspended, revoked. Derived from time: not-yet-valid (before notBefore) and
 * expired (after notAfter). Transitions and who may cause them:
 *
 * | event    | from                     | to        | channels (delegation.ts)                          |
 * |----------|--------------------------|-----------|---------------------------------------------------|
 * | activate | on-hold-until-activated  | valid     | online-card-signature                             |
 * | suspend  | valid (suspended: court) | suspended | holder in person, delegates, user code, court     |
 * | resume   | suspended                | valid     | same; a court's suspension only by a court        |
 * | revoke   | any but revoked          | revoked   | holder in person, operator, household event       |
 *
 * Revoked is final (RFC 5280 §3.3: revocation cannot be undone). A suspension
 * lasts at most until expiry (CPS 4.4): an expired certificate is no longer
 * suspended nor can it be suspended or resumed. Revocation stays possible
 * after expiry, because an expired card may still be renewed (3 years) or
 * used for online re-issuance (1 year after the cap): a lost or dead
 * holder's card must be stoppable until then.
 */
import type { CertificateFacts, CertificateStatus, SuspensionAuthority } from './certificate-facts';
import { allow, refuse, type Decision, type Refusal } from './decision';
import { channelPermits, type Channel, type Operation } from './delegation';
import { revocationReasonPermitted, type CrlReason, type RevocationReason } from './revocation-reason';
import { assertValidInstant } from './taiwan-time';

/** The state of a certificate at an instant: stored status, or derived from time. */
export type EffectiveState = CertificateStatus | 'expired' | 'not-yet-valid';

/** Something that changes a certificate's status. */
export type LifecycleEvent =
  | { readonly kind: 'activate' }
  | { readonly kind: 'suspend' }
  | { readonly kind: 'resume' }
  | { readonly kind: 'revoke'; readonly reason: RevocationReason };

/** An allowed change of status, with what the CRL/OCSP side must publish. */
export interface Transition {
  readonly from: EffectiveState;
  readonly to: CertificateStatus;
  readonly suspendedBy: SuspensionAuthority | null;
  readonly revocationReason: RevocationReason | null;
  /** RFC 5280 §5.3.1: certificateHold on suspension, removeFromCRL on resumption or activation. */
  readonly crlReason: CrlReason;
}

const EVENT_OPERATION: Readonly<Record<LifecycleEvent['kind'], Operation>> = {
  activate: 'activation',
  suspend: 'suspension',
  resume: 'resumption',
  revoke: 'revocation',
};

/**
 * The effective state at `now`. Revoked wins over time; then expiry (a
 * suspension ends at expiry); then not-yet-valid; else the stored status.
 */
export function effectiveState(certificate: CertificateFacts, now: Date): EffectiveState {
  assertValidInstant(now, 'now');
  if (certificate.status === 'revoked') return 'revoked';
  if (now.getTime() > certificate.notAfter.getTime()) return 'expired';
  if (now.getTime() < certificate.notBefore.getTime()) return 'not-yet-valid';
  return certificate.status;
}

/** The refusal for acting on a certificate in a state the action does not accept. */
export function refusalForState(state: Exclude<EffectiveState, 'valid'>): Refusal {
  switch (state) {
    case 'revoked':
      return refuse('certificate-revoked', 'The certificate is revoked; revocation is final.');
    case 'expired':
      return refuse('certificate-expired', 'The certificate has expired.');
    case 'not-yet-valid':
      return refuse('certificate-not-yet-valid', 'The certificate is not valid yet.');
    case 'on-hold-until-activated':
      return refuse('certificate-not-activated', 'The card must first be activated online.');
    case 'suspended':
      return refuse('certificate-suspended', 'The certificate is suspended; resume it first.');
  }
}

/** The authority behind a suspension requested through `channel`. */
export function suspensionAuthorityOf(channel: Channel): SuspensionAuthority {
  return channel === 'court-order' ? 'court-order' : 'holder';
}

/** Decides a status change: channel (delegation table), then state, then who suspended. */
export function decideTransition(
  certificate: CertificateFacts,
  event: LifecycleEvent,
  channel: Channel,
  now: Date,
): Decision<{ transition: Transition }> {
  const permitted = channelPermits(EVENT_OPERATION[event.kind], channel);
  if (!permitted.allowed) return permitted;
  const from = effectiveState(certificate, now);
  if (from === 'revoked') return refusalForState(from);
  const to = (status: CertificateStatus, crlReason: CrlReason, extra: Partial<Transition> = {}) =>
    allow({ transition: { from, to: status, suspendedBy: null, revocationReason: null, crlReason, ...extra } });

  switch (event.kind) {
    case 'activate':
      if (from === 'on-hold-until-activated') return to('valid', 'removeFromCRL');
      if (from === 'valid' || from === 'suspended') {
        return refuse('certificate-already-activated', 'The certificate is already activated.');
      }
      return refusalForState(from);
    case 'suspend': {
      const authority = suspensionAuthorityOf(channel);
      // A court may take over a holder's suspension, so the holder cannot lift it.
      const courtTakesOver = from === 'suspended' && authority === 'court-order' && certificate.suspendedBy !== 'court-order';
      if (from === 'valid') return to('suspended', 'certificateHold', { suspendedBy: authority });
      if (courtTakesOver) return to('suspended', 'certificateHold', { suspendedBy: authority });
      return refusalForState(from);
    }
    case 'resume': {
      if (from === 'valid') return refuse('certificate-not-suspended', 'Only a suspended certificate can be resumed.');
      if (from !== 'suspended') return refusalForState(from);
      const authority = suspensionAuthorityOf(channel);
      if (certificate.suspendedBy === 'court-order' && authority !== 'court-order') {
        return refuse('suspension-ordered-by-court', 'This suspension was ordered by a court; only a court order lifts it.');
      }
      if (certificate.suspendedBy !== 'court-order' && authority === 'court-order') {
        return refuse('suspension-not-ordered-by-court', 'This suspension was made by the holder; a court order cannot lift it.');
      }
      return to('valid', 'removeFromCRL');
    }
    case 'revoke':
      if (!revocationReasonPermitted(channel, event.reason)) {
        return refuse('revocation-reason-not-permitted', `${channel} may not revoke for ${event.reason}.`);
      }
      return to('revoked', event.reason, { revocationReason: event.reason });
  }
}
