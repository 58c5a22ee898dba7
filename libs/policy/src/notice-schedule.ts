/**
 * Notices to the holder's contact e-mail (DOMAIN.md "Notices": when the
 * renewal window opens, before it closes, when the re-issuance window opens).
 * Each notice kind has an instant it becomes due and an instant after which
 * it is pointless (stale). Within each window the notices form a chain: a
 * notice goes stale when the next one of the same window becomes due, and
 * the last one when the window closes.
 *
 * | notice                    | due                           | stale                         |
 * |---------------------------|-------------------------------|-------------------------------|
 * | renewal-window-opened     | 5-year expiry - 60 days       | 5-year expiry                 |
 * | expired-but-renewable     | 5-year expiry                 | renewal close - 90 days       |
 * | renewal-window-closing    | renewal close - 90 days       | renewal close (the cap)       |
 * | reissuance-window-opened  | cap - 60 days                 | re-issuance close - 30 days   |
 * | reissuance-window-closing | re-issuance close - 30 days   | re-issuance close             |
 *
 * Delivery rule (for the worker): send a notice when due <= now < stale and it
 * has not been sent for this card (key: card, kind, due instant); send it
 * exactly once; a notice whose stale instant passed while the worker was down
 * is skipped, never sent late. Evaluate the card's current certificate (the
 * latest, renewed one if any). Renewal notices are for a certificate that is
 * not itself a renewal; none for a revoked certificate or a card awaiting
 * activation; after expiry, none when it expired while suspended (it can be
 * neither renewed nor re-issued).
 */
import { cardLifetime } from './card-lifetime';
import type { CertificateFacts } from './certificate-facts';
import { effectiveState } from './certificate-state';
import { addDays } from './taiwan-time';

/** A notice the holder receives about the lifecycle of the card. */
export type NoticeKind =
  | 'renewal-window-opened'
  | 'expired-but-renewable'
  | 'renewal-window-closing'
  | 'reissuance-window-opened'
  | 'reissuance-window-closing';

/** The renewal-window-closing notice is due this many days before renewal closes. */
export const RENEWAL_CLOSING_NOTICE_DAYS = 90;
/** The reissuance-window-closing notice is due this many days before re-issuance closes. */
export const REISSUANCE_CLOSING_NOTICE_DAYS = 30;

/** One notice of a card: due from `dueAt`, pointless from `staleAt`. */
export interface ScheduledNotice {
  readonly kind: NoticeKind;
  readonly dueAt: Date;
  readonly staleAt: Date;
}

/** The instants of every notice of a card, whatever its state. */
export function noticeSchedule(cardIssuedAt: Date): ScheduledNotice[] {
  const life = cardLifetime(cardIssuedAt);
  const renewalClosing = addDays(life.renewal.closesAt, -RENEWAL_CLOSING_NOTICE_DAYS);
  const reissuanceClosing = addDays(life.reissuance.closesAt, -REISSUANCE_CLOSING_NOTICE_DAYS);
  return [
    { kind: 'renewal-window-opened', dueAt: life.renewal.opensAt, staleAt: life.fiveYearEnd },
    { kind: 'expired-but-renewable', dueAt: life.fiveYearEnd, staleAt: renewalClosing },
    { kind: 'renewal-window-closing', dueAt: renewalClosing, staleAt: life.renewal.closesAt },
    { kind: 'reissuance-window-opened', dueAt: life.reissuance.opensAt, staleAt: reissuanceClosing },
    { kind: 'reissuance-window-closing', dueAt: reissuanceClosing, staleAt: life.reissuance.closesAt },
  ];
}

const RENEWAL_NOTICES: readonly NoticeKind[] = ['renewal-window-opened', 'expired-but-renewable', 'renewal-window-closing'];

/** Whether a notice kind still concerns this certificate at `now`. */
export function noticeApplies(kind: NoticeKind, certificate: CertificateFacts, now: Date): boolean {
  const state = effectiveState(certificate, now);
  if (state === 'revoked' || certificate.status === 'on-hold-until-activated') return false;
  if (state === 'expired' && certificate.status === 'suspended') return false;
  return !(RENEWAL_NOTICES.includes(kind) && certificate.isRenewal);
}

/** The notices to send at `now`: due, not stale, and applicable (the worker removes those already sent). */
export function noticesDue(certificate: CertificateFacts, now: Date): ScheduledNotice[] {
  return noticeSchedule(certificate.cardIssuedAt).filter(
    (notice) => notice.dueAt <= now && now < notice.staleAt && noticeApplies(notice.kind, certificate, now),
  );
}
