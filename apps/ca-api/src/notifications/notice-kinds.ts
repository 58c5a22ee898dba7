import type { NoticeKind as LifecycleNoticeKind } from '@moica/policy';

/**
 * Every notice a holder receives (issue 8). Lifecycle notices are decided by
 * libs/policy (`noticesDue`); transactional notices are enqueued by ca-api
 * inside the transaction of the state change they report.
 */
export type { LifecycleNoticeKind };

/** A state change the holder is told about as it happens. */
export type TransactionalNoticeKind =
  | 'certificate-issued'
  | 'certificate-suspended'
  | 'certificate-resumed'
  | 'certificate-revoked'
  | 'contact-details-changed';

export type NoticeKind = LifecycleNoticeKind | TransactionalNoticeKind;

/** How a notice travels: the contact e-mail or the mobile number (DOMAIN.md "Notices"). */
export type NoticeChannel = 'email' | 'sms';

/** Who a notice is addressed to: the holder's current contact, or the contact before a change. */
export type NoticeAddressee = 'holder' | 'previous-contact';

export const LIFECYCLE_NOTICE_KINDS: readonly LifecycleNoticeKind[] = [
  'renewal-window-opened',
  'expired-but-renewable',
  'renewal-window-closing',
  'reissuance-window-opened',
  'reissuance-window-closing',
];

export const TRANSACTIONAL_NOTICE_KINDS: readonly TransactionalNoticeKind[] = [
  'certificate-issued',
  'certificate-suspended',
  'certificate-resumed',
  'certificate-revoked',
  'contact-details-changed',
];

export function isLifecycleNoticeKind(kind: string): kind is LifecycleNoticeKind {
  return (LIFECYCLE_NOTICE_KINDS as readonly string[]).includes(kind);
}

/**
 * The channels of each kind when the caller does not choose. DOMAIN.md:
 * important notices go to the contact e-mail. A suspension, resumption or
 * revocation also goes by SMS: the holder must learn at once of a change they
 * may not have made themselves (a suspension needs only the user code).
 * contact-details-changed goes on the channel(s) that changed (enqueueNotice).
 */
export const DEFAULT_NOTICE_CHANNELS: Readonly<Record<Exclude<NoticeKind, 'contact-details-changed'>, readonly NoticeChannel[]>> = {
  'renewal-window-opened': ['email'],
  'expired-but-renewable': ['email'],
  'renewal-window-closing': ['email'],
  'reissuance-window-opened': ['email'],
  'reissuance-window-closing': ['email'],
  'certificate-issued': ['email'],
  'certificate-suspended': ['email', 'sms'],
  'certificate-resumed': ['email', 'sms'],
  'certificate-revoked': ['email', 'sms'],
};

/** The graphile-worker task that delivers a notice of a channel (one task per channel, see worker.ts). */
export function noticeTaskFor(channel: NoticeChannel): string {
  return `notice-${channel}`;
}

/** Attempts (graphile-worker retries with exponential backoff, about 3.6 hours in all for 10). */
export const DEFAULT_NOTICE_MAX_ATTEMPTS = 10;
